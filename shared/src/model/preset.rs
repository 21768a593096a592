//! The GAQNO preset: the embedded default project, from the GAQNO runbook's service table.

use super::{Project, Service, Target};

/// GAQNO's services on Coolify: two replicas each behind Traefik 3.6, `GET /v1/health`,
/// hosts `<name>.gaqno.com.br`, entrypoint `https`, resolver `letsencrypt`.
///
/// omnichannel-service (Socket.IO, port 4008) gets the sticky cookie and Socket.IO
/// affinity; ai-service's sticky cookie is prepared but off (optional in the runbook);
/// sso-service, crm-service and pdv-service are not sticky. The runbook names no port but
/// omnichannel's: the others use NestJS's default 3000 until the operator sets theirs.
pub fn gaqno_preset() -> Project {
    let mut omnichannel = Service::new("omnichannel-service", 4008, 2);
    omnichannel.set_socket_io(true);
    let sticky_off = |name: &str| {
        let mut service = Service::new(name, 3000, 2);
        service.sticky.enabled = false;
        service
    };
    Project {
        target: Target::default(),
        services: vec![
            omnichannel,
            sticky_off("ai-service"),
            sticky_off("sso-service"),
            sticky_off("crm-service"),
            sticky_off("pdv-service"),
        ],
    }
}
