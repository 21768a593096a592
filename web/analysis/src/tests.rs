//! The module's answers, natively: each request as the first module sends it, in JSON.

use shared::model::{DockerReplicas, Project};
use web::protocol::{ImportSummary, LabelsDiff, Request};
use web::{diagram::Diagram, Finding};

fn ask<R: serde::de::DeserializeOwned>(request: &Request) -> Result<R, String> {
    let json = serde_json::to_string(request).expect("requests serialize");
    serde_json::from_str::<Result<R, String>>(&super::answer(&json)).expect("answers parse")
}

#[test]
fn findings_and_a_fix_round_trip_through_json() {
    let mut project = Project::gaqno();
    project.services[1].health_check = None;
    let found: Vec<Finding> = ask(&Request::Findings {
        project: project.clone(),
    })
    .unwrap();
    assert_eq!(
        found,
        web::findings(&project),
        "as the web crate finds them"
    );
    let missing = found
        .iter()
        .find(|f| f.rule == "missing-health-check")
        .expect("the finding")
        .clone();
    let fixed: Option<Project> = ask(&Request::ApplyFix {
        project: project.clone(),
        finding: missing.clone(),
    })
    .unwrap();
    let fixed = fixed.expect("fixed");
    assert!(fixed.services[1].health_check.is_some());
    // Asked again on the fixed project, the finding is gone: nothing to fix.
    let again: Option<Project> = ask(&Request::ApplyFix {
        project: fixed,
        finding: missing,
    })
    .unwrap();
    assert_eq!(again, None);
}

#[test]
fn import_says_what_it_fixed_and_a_bad_file_says_where() {
    let yaml = shared::export::config_to_yaml(&shared::export::export(&Project::gaqno())).unwrap();
    let imported: ImportSummary = ask(&Request::Import { yaml }).unwrap();
    assert_eq!(imported.project.services.len(), 5);
    let bad = ask::<ImportSummary>(&Request::Import {
        yaml: "http:\n  routers: [".into(),
    })
    .unwrap_err();
    assert!(bad.contains("line"), "{bad}");
    // Issue 20, B2: nothing to import is an error that says what the text is instead.
    for (text, why) in [
        ("", "the text is empty"),
        (
            "services:\n  api:\n    image: nginx\n",
            "looks like a Docker compose file",
        ),
        (
            "http:\n  middlewares:\n    gzip: {compress: {}}\n",
            "only http.middlewares.gzip",
        ),
    ] {
        let err = ask::<ImportSummary>(&Request::Import { yaml: text.into() }).unwrap_err();
        assert!(
            err.starts_with("nothing to import: ") && err.contains(why),
            "{text:?}: {err}"
        );
    }
}

#[test]
fn labels_and_docker_diagrams_and_old_saves() {
    let mut project = Project::gaqno();
    let index = project
        .services
        .iter()
        .position(|s| s.socket_io.enabled)
        .unwrap();
    let name = project.services[index].name.clone();
    // What Coolify writes for the application, as an operator pastes it.
    let pasted = shared::labels::coolify::generated_labels(&project.services[index]);
    let (lines, text): LabelsDiff = ask(&Request::Labels {
        project: project.clone(),
        service: name.clone(),
        pasted: pasted.clone(),
    })
    .unwrap();
    assert_eq!(
        (lines, text),
        web::labels_with_affinity(&project, &name, &pasted).unwrap()
    );
    let err = ask::<LabelsDiff>(&Request::Labels {
        project: project.clone(),
        service: name,
        pasted: "not a label".into(),
    })
    .unwrap_err();
    assert!(err.starts_with("line 1: "), "{err}");

    // A service in the file, from the export; Docker replicas, from their labels.
    let drawn: Option<Diagram> = ask(&Request::Diagram {
        project: project.clone(),
        index,
    })
    .unwrap();
    assert_eq!(
        drawn,
        web::diagram::file_service(
            &shared::export::export(&project),
            &project.services[index].name
        )
    );
    assert!(drawn.is_some_and(|d| d.node("replica-0").is_some()));
    project.services[index].docker_replicas =
        Some(DockerReplicas::new(3, shared::model::ReplicasVia::Swarm));
    let drawn: Option<Diagram> = ask(&Request::Diagram {
        project: project.clone(),
        index,
    })
    .unwrap();
    assert_eq!(
        drawn,
        web::diagram::docker_service(&project.target, &project.services[index])
    );
    assert!(drawn.is_some_and(|d| d.node("containers").is_some()));

    let yaml = shared::yaml::to_string(&project).unwrap();
    let loaded: Option<Project> = ask(&Request::SavedYaml { text: yaml }).unwrap();
    assert_eq!(loaded, Some(project));
}

#[test]
fn an_unreadable_request_is_an_error_not_a_trap() {
    for request in [
        "",
        "{",
        "null",
        r#"{"ask":"nothing"}"#,
        r#"{"ask":"findings"}"#,
    ] {
        let answer: Result<(), String> = serde_json::from_str(&super::answer(request)).unwrap();
        assert!(
            answer.unwrap_err().starts_with("unreadable request"),
            "{request}"
        );
    }
}
