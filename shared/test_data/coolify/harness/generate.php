<?php
// Writes the golden files of shared/test_data/coolify/ with Coolify's own PHP.
//
//   php generate.php COOLIFY_SOURCE OUT_DIR
//
// COOLIFY_SOURCE is a checkout of coollabsio/coolify at the commit the README names. Nothing of
// Coolify is copied here: its helper files are loaded from there and called as Coolify calls
// them. Needs Debian's php-cli, php-mbstring, php-symfony-yaml, php-illuminate-support and
// php-illuminate-collections (`cargo xtask coolify-golden` installs them).

[$self, $coolify, $out] = $argv + [null, null, null];
if (! $coolify || ! $out || ! is_file("{$coolify}/bootstrap/helpers/docker.php")) {
    fwrite(STDERR, "usage: php generate.php COOLIFY_SOURCE OUT_DIR (COOLIFY_SOURCE holds bootstrap/helpers/docker.php)\n");
    exit(2);
}

// A notice or warning means Coolify touched something the stand-ins do not cover: stop.
// (Deprecations are Laravel 8 meeting PHP 8.2, not Coolify.)
set_error_handler(function (int $level, string $message, string $file, int $line) {
    throw new ErrorException($message, 0, $level, $file, $line);
}, E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED);

require __DIR__.'/stand-ins.php';
require '/usr/share/php/Illuminate/Collections/autoload.php';
require '/usr/share/php/Illuminate/Support/autoload.php';
require '/usr/share/php/Symfony/Component/Yaml/autoload.php';
add_laravel_9_methods();

// Laravel's `config()`: Coolify's own config/constants.php, in production.
$GLOBALS['coolify_config'] = [
    'app' => ['env' => 'production'],
    'constants' => require "{$coolify}/config/constants.php",
];
function config($key, $default = null)
{
    return data_get($GLOBALS['coolify_config'], $key, $default);
}

require "{$coolify}/app/Enums/ProxyTypes.php";
require "{$coolify}/app/Support/ValidationPatterns.php";
foreach (['constants', 'shared', 'docker', 'parsers', 'proxy', 'domains', 'services', 'applications'] as $helper) {
    require "{$coolify}/bootstrap/helpers/{$helper}.php";
}

use App\Actions\Proxy\SaveProxyConfiguration;
use App\Models\Application;
use App\Models\EmptyRelation;
use App\Models\Server;
use App\Models\Settings;
use Symfony\Component\Yaml\Yaml;

const UUID = 'k4c8w0s8g8ok0c4gs0wck8sg';

function server(bool $swarm): Server
{
    return new Server([
        'id' => 1,
        'name' => 'localhost',
        'is_swarm' => $swarm,
        'settings' => new Settings(['generate_exact_labels' => false]),
        'standaloneDockers' => [],
        'swarmDockers' => [],
    ]);
}

// The application of the README: id 7, resource `omnichannel-service`, project `gaqno`,
// environment `production`, port 4008, Coolify's defaults otherwise.
function application(string $fqdn, array $settings = [], bool $swarm = false, array $attributes = []): Application
{
    $environment = new Settings(['name' => 'production']);
    $project = new Settings(['name' => 'gaqno']);

    return new Application(array_merge([
        'id' => 7,
        'uuid' => UUID,
        'name' => 'omnichannel-service',
        'fqdn' => $fqdn,
        'ports_exposes' => '4008',
        'ports_exposes_array' => [4008],
        'redirect' => 'both',
        'is_http_basic_auth_enabled' => false,
        'http_basic_auth_username' => null,
        'http_basic_auth_password' => null,
        'environment' => $environment,
        'environment_variables' => collect([]),
        'destination' => new Settings([
            'network' => $swarm ? 'coolify-overlay' : 'coolify',
            'server' => server($swarm),
        ]),
        'settings' => new Settings(array_merge([
            'is_static' => false,
            'is_force_https_enabled' => true,
            'is_gzip_enabled' => true,
            'is_stripprefix_enabled' => true,
            'is_container_label_escape_enabled' => true,
            'is_container_label_readonly_enabled' => true,
            'connect_to_docker_network' => false,
        ], $settings)),
    ], $attributes), [
        'environment_variables' => new EmptyRelation(),
        'environment_variables_preview' => new EmptyRelation(),
        'previews' => new EmptyRelation(),
        'project' => $project,
    ]);
}

function lines(iterable $labels): string
{
    $text = '';
    foreach ($labels as $label) {
        $text .= "{$label}\n";
    }

    return $text;
}

// General → "Active labels" shows `generateLabelsApplication` joined by lines
// (app/Livewire/Project/Application/General.php).
function active_labels(Application $app): string
{
    return lines(generateLabelsApplication($app));
}

// `ApplicationDeploymentJob::generate_compose_file` on a Swarm server, the labels it puts in
// `deploy.labels`: `generateLabelsApplication` (read-only labels, the default), then
// `defaultLabels` with the application's uuid as name.
function swarm_deploy_labels(Application $app): string
{
    $labels = collect(generateLabelsApplication($app));
    $labels = $labels->merge(defaultLabels($app->id, $app->uuid, $app->project()->name, $app->name, $app->environment->name, 0));

    return lines($labels);
}

// `applicationParser` for a Docker Compose application whose one service,
// `omnichannel-service`, has the domain given; the labels it leaves on that service.
function compose_labels(string $domain, array $ownLabels = []): string
{
    $service = ['image' => 'gaqno/omnichannel-service:latest'];
    if ($ownLabels) {
        $service['labels'] = $ownLabels;
    }
    $app = application('', [
        // A consistent name (`<service>-<uuid>`), so `coolify.name` does not carry the deploy time.
        'is_consistent_container_name_enabled' => true,
    ], false, [
        'fqdn' => null,
        'build_pack' => 'dockercompose',
        'compose_parsing_version' => '5',
        'docker_compose_raw' => Yaml::dump(['services' => ['omnichannel-service' => $service]], 10, 2),
        'docker_compose_domains' => json_encode(['omnichannel-service' => ['domain' => $domain]]),
        'preview_url_template' => '{{pr_id}}.{{domain}}',
    ]);
    applicationParser($app);
    $compose = Yaml::parse($app->docker_compose);

    return lines($compose['services']['omnichannel-service']['labels'] ?? []);
}

// `generateDefaultProxyConfiguration` in production, as JSON for the tests to read.
function proxy(bool $swarm): string
{
    generateDefaultProxyConfiguration(server($swarm));

    return json_encode(Yaml::parse(SaveProxyConfiguration::$saved), JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES)."\n";
}

$own = 'traefik.http.%s.gaqno-omnichannel-service-affinity.plugin.gaqno-lb.cookieName=gaqno_omnichannel_service';
$files = [
    'standalone.txt' => fn () => active_labels(application('https://omni.example.com')),
    'standalone-domains.txt' => fn () => active_labels(application('https://omni.example.com,https://chat.example.com')),
    'standalone-path.txt' => fn () => active_labels(application('https://example.com/omni')),
    'standalone-gzip-off.txt' => fn () => active_labels(application('https://omni.example.com', ['is_gzip_enabled' => false])),
    'standalone-http-only.txt' => fn () => active_labels(application('http://omni.example.com')),
    'swarm-standalone.txt' => fn () => swarm_deploy_labels(application('https://omni.example.com', [], true)),
    'compose.txt' => fn () => compose_labels('https://omni.example.com:4008'),
    'compose-no-port.txt' => fn () => compose_labels('https://omni.example.com'),
    'compose-own-middleware.txt' => fn () => compose_labels('https://omni.example.com:4008', [sprintf($own, 'middlewares')]),
    'compose-own-middleware-capitalised.txt' => fn () => compose_labels('https://omni.example.com:4008', [sprintf($own, 'Middlewares')]),
    'proxy-standalone.json' => fn () => proxy(false),
    'proxy-swarm.json' => fn () => proxy(true),
];
foreach ($files as $name => $make) {
    file_put_contents("{$out}/{$name}", $make());
    echo "wrote {$name}\n";
}
