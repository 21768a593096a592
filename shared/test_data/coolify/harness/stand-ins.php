<?php
// Stand-ins for the parts of Laravel and of Coolify's models that Coolify's helper functions
// touch while they write labels and compose files. Nothing here decides an output: each
// stand-in returns what Coolify's real one returns for the application the README describes
// (no database rows, no previews, no log drain, production, Traefik). Kept as small as the
// functions allow; a function that needs more fails loudly (Model::__call) instead of
// guessing.

namespace {
    // Laravel's `env()` needs phpoption; Coolify's config only reads unset variables here.
    function env($key, $default = null)
    {
        $value = getenv($key);

        return $value === false ? $default : $value;
    }
}

namespace Illuminate\Support\Facades {
    // Coolify logs as it goes; the facade needs Laravel's container, so log nowhere.
    class Log
    {
        public static function __callStatic($method, $arguments)
        {
        }
    }
}

namespace Spatie\Url {
    // spatie/url 2.4.0 (Coolify's composer.lock): `Url::make` parses with parse_url, lowers the
    // scheme and makes a missing path `/`; `__toString` leaves a `/` path out. Only the methods
    // Coolify calls, without user info (its domains carry none).
    class Url
    {
        private string $scheme = '';

        private string $host = '';

        private ?int $port = null;

        private string $path = '/';

        private string $query = '';

        private string $fragment = '';

        public static function fromString(string $url): static
        {
            $parts = parse_url($url);
            if (! $parts) {
                throw new \InvalidArgumentException("invalid url {$url}");
            }
            $u = new static();
            $u->scheme = strtolower($parts['scheme'] ?? '');
            $u->host = $parts['host'] ?? '';
            $u->port = $parts['port'] ?? null;
            $u->path = $parts['path'] ?? '/';
            $u->query = $parts['query'] ?? '';
            $u->fragment = $parts['fragment'] ?? '';

            return $u;
        }

        public function getScheme(): string
        {
            return $this->scheme;
        }

        public function getHost(): string
        {
            return $this->host;
        }

        public function getPort(): ?int
        {
            return $this->port;
        }

        public function getPath(): string
        {
            return $this->path;
        }

        public function withScheme($scheme): static
        {
            $u = clone $this;
            $u->scheme = strtolower($scheme);

            return $u;
        }

        public function withHost($host): static
        {
            $u = clone $this;
            $u->host = $host;

            return $u;
        }

        public function withPort($port): static
        {
            $u = clone $this;
            $u->port = $port;

            return $u;
        }

        public function __toString(): string
        {
            $url = $this->scheme !== '' ? "{$this->scheme}://" : ($this->host !== '' ? '//' : '');
            $url .= $this->host.($this->port !== null ? ":{$this->port}" : '');
            $url .= $this->path !== '/' ? $this->path : '';
            $url .= $this->query !== '' ? "?{$this->query}" : '';
            $url .= $this->fragment !== '' ? "#{$this->fragment}" : '';

            return $url;
        }
    }
}

namespace App\Actions\Proxy {
    // `generateDefaultProxyConfiguration` hands its YAML to this action, which writes it to
    // the server over SSH. Keep it instead.
    class SaveProxyConfiguration
    {
        public static ?string $saved = null;

        public static function run($server, string $config): void
        {
            self::$saved = $config;
        }
    }
}

namespace App\Models {
    // An Eloquent model as plain data: attributes are public properties (so `data_get` and
    // `data_forget` see them), relations are listed up front, `save()` keeps nothing.
    #[\AllowDynamicProperties]
    class Model
    {
        public function __construct(array $attributes = [], private array $relations = [])
        {
            foreach ($attributes as $key => $value) {
                $this->{$key} = $value;
            }
        }

        // Eloquent reads an attribute the row lacks as null.
        public function __get($name)
        {
            return null;
        }

        public function __call($method, $arguments)
        {
            if (array_key_exists($method, $this->relations)) {
                return $this->relations[$method];
            }
            throw new \LogicException(static::class."::{$method}() is not stood in for");
        }

        public function save(): bool
        {
            return true;
        }

        public function getMorphClass(): string
        {
            return static::class;
        }
    }

    // A relation with no rows: every query finds nothing, every write is dropped.
    class EmptyRelation
    {
        public function __call($method, $arguments)
        {
            return match ($method) {
                'get', 'pluck' => collect([]),
                'where', 'whereIn', 'whereNull', 'whereNotIn', 'orderBy' => $this,
                'count' => 0,
                'exists' => false,
                default => null,
            };
        }
    }

    class Settings extends Model
    {
    }

    class Server extends Model
    {
        public function isSwarm(): bool
        {
            return $this->is_swarm;
        }

        public function proxyType(): string
        {
            return 'TRAEFIK';
        }

        // `Server::proxyPath()` for Traefik in production: the base path's `proxy/`.
        public function proxyPath(): string
        {
            return '/data/coolify/proxy/';
        }

        public function isLogDrainEnabled(): bool
        {
            return false;
        }
    }

    class Application extends Model
    {
        public function isForceHttpsEnabled(): bool
        {
            return $this->settings->is_force_https_enabled;
        }

        public function isGzipEnabled(): bool
        {
            return $this->settings->is_gzip_enabled;
        }

        public function isStripprefixEnabled(): bool
        {
            return $this->settings->is_stripprefix_enabled;
        }

        public function isLogDrainEnabled(): bool
        {
            return false;
        }

        public function noindexDomains()
        {
            return collect([]);
        }
    }

    class ApplicationPreview extends Model
    {
    }

    class ServiceApplication extends Model
    {
    }

    class LocalPersistentVolume extends Model
    {
    }

    class LocalFileVolume extends Model
    {
    }
}

namespace {
    // Laravel 9's `str()`; Debian ships Laravel 8's helpers, which lack it.
    if (! function_exists('str')) {
        function str($string = null)
        {
            return \Illuminate\Support\Str::of($string ?? '');
        }
    }

    // Laravel's `now()`; Coolify only formats it (the container name's time).
    if (! function_exists('now')) {
        function now(): \DateTimeImmutable
        {
            return new \DateTimeImmutable();
        }
    }

    // Laravel 9+ methods Coolify calls on `str()`, missing from Debian's Laravel 8. Called once
    // Laravel's autoloaders are in.
    function add_laravel_9_methods(): void
    {
        foreach (['toString', 'value'] as $name) {
            \Illuminate\Support\Stringable::macro($name, function () {
                return (string) $this;
            });
        }
    }

    // Laravel 10's `data_forget`; Debian ships Laravel 8's helpers, which lack it.
    if (! function_exists('data_forget')) {
        function data_forget(&$target, $key)
        {
            $segments = is_array($key) ? $key : explode('.', $key);
            $segment = array_shift($segments);
            if ($segment === '*' && \Illuminate\Support\Arr::accessible($target)) {
                if ($segments) {
                    foreach ($target as &$inner) {
                        data_forget($inner, $segments);
                    }
                }
            } elseif (\Illuminate\Support\Arr::accessible($target)) {
                if ($segments && \Illuminate\Support\Arr::exists($target, $segment)) {
                    data_forget($target[$segment], $segments);
                } else {
                    \Illuminate\Support\Arr::forget($target, $segment);
                }
            } elseif (is_object($target)) {
                if ($segments && isset($target->{$segment})) {
                    data_forget($target->{$segment}, $segments);
                } elseif (isset($target->{$segment})) {
                    unset($target->{$segment});
                }
            }

            return $target;
        }
    }
}
