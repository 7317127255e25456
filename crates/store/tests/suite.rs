//! One behavioural suite, run on every backend: each test is a generic function over
//! [`Store`], instantiated per backend by the `suite!` macro at the bottom. A new backend
//! (PostgreSQL) adds one `suite!` line and must pass the same tests.

mod common;

use common::*;
use stepwise_store::*;

fn all() -> PageRequest {
    PageRequest::first(1000)
}

fn state_machine_crud<S: Store>(s: &S) {
    let sm = state_machine("a", "{\"v\":1}");
    s.create_state_machine(sm.clone()).unwrap();
    assert_eq!(s.get_state_machine(&sm.arn).unwrap(), sm);

    // A repeat with the same definition is an idempotent create; role changes are ignored.
    let mut same = sm.clone();
    same.role_arn = "arn:aws:iam::123456789012:role/other".into();
    assert_eq!(
        s.create_state_machine(same),
        Err(Error::AlreadyExists {
            arn: sm.arn.clone(),
            identical: true
        })
    );
    let different = state_machine("a", "{\"v\":2}");
    assert_eq!(
        s.create_state_machine(different),
        Err(Error::AlreadyExists {
            arn: sm.arn.clone(),
            identical: false
        })
    );

    let mut v2 = sm.clone();
    v2.definition = "{\"v\":2}".into();
    v2.revision_id = "rev-2".into();
    assert!(matches!(
        s.update_state_machine(v2.clone(), Some("rev-0".into())),
        Err(Error::Conflict(_))
    ));
    assert_eq!(s.get_state_machine(&sm.arn).unwrap(), sm);
    s.update_state_machine(v2.clone(), Some("rev-1".into()))
        .unwrap();
    assert_eq!(s.get_state_machine(&sm.arn).unwrap(), v2);
    assert!(matches!(
        s.update_state_machine(state_machine("nope", "{}"), None),
        Err(Error::NotFound(_))
    ));

    s.delete_state_machine(&sm.arn).unwrap();
    assert!(matches!(
        s.get_state_machine(&sm.arn),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        s.delete_state_machine(&sm.arn),
        Err(Error::NotFound(_))
    ));
    // The name is free again.
    s.create_state_machine(sm.clone()).unwrap();
}

fn pagination_is_stable_and_ordered<S: Store>(s: &S) {
    let names: Vec<String> = (0..7).map(|i| format!("m{}", 9 - i)).collect();
    for n in &names {
        s.create_state_machine(state_machine(n, "{}")).unwrap();
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(3);
    let mut pages = 0;
    loop {
        let p = s.list_state_machines(&page).unwrap();
        pages += 1;
        assert!(p.items.len() <= 3);
        seen.extend(p.items.into_iter().map(|m| m.name));
        // A row created while paging does not disturb the pages already handed out.
        if pages == 1 {
            s.create_state_machine(state_machine("late", "{}")).unwrap();
        }
        match p.next_token {
            Some(t) => page.next_token = Some(t),
            None => break,
        }
    }
    let mut expected = names.clone();
    expected.push("late".into());
    assert_eq!(seen, expected, "creation order, not name order");
    assert_eq!(pages, 3);

    // Exactly one full page has no token.
    let p = s.list_state_machines(&PageRequest::first(8)).unwrap();
    assert_eq!((p.items.len(), p.next_token), (8, None));
    // 0 means the default (100).
    assert_eq!(
        s.list_state_machines(&PageRequest::first(0))
            .unwrap()
            .items
            .len(),
        8
    );

    let bad = PageRequest {
        max_results: 3,
        next_token: Some("garbage!".into()),
    };
    assert!(matches!(
        s.list_state_machines(&bad),
        Err(Error::InvalidToken(_))
    ));
    let token = s
        .list_state_machines(&PageRequest::first(1))
        .unwrap()
        .next_token;
    let foreign = PageRequest {
        max_results: 3,
        next_token: token,
    };
    assert!(matches!(
        s.list_activities(&foreign),
        Err(Error::InvalidToken(_))
    ));
}

fn versions_and_aliases<S: Store>(s: &S) {
    let sm = state_machine("v", "{}");
    s.create_state_machine(sm.clone()).unwrap();
    let template = VersionRecord {
        arn: String::new(),
        state_machine_arn: sm.arn.clone(),
        version: 0,
        definition: "{}".into(),
        role_arn: sm.role_arn.clone(),
        revision_id: "rev-1".into(),
        description: Some("first".into()),
        creation_date: 5,
    };
    let v1 = s.publish_version(template.clone()).unwrap();
    let v2 = s.publish_version(template.clone()).unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(v2.arn, format!("{}:2", sm.arn));
    assert_eq!(s.get_version(&v1.arn).unwrap(), v1);
    s.delete_version(&v2.arn).unwrap();
    let v3 = s.publish_version(template.clone()).unwrap();
    assert_eq!(v3.version, 3, "numbers are never reused");
    let listed = s.list_versions(&sm.arn, &all()).unwrap().items;
    assert_eq!(listed, vec![v3.clone(), v1.clone()], "highest first");
    let mut orphan = template.clone();
    orphan.state_machine_arn = sm_arn("none");
    assert!(matches!(s.publish_version(orphan), Err(Error::NotFound(_))));

    let alias = AliasRecord {
        arn: format!("{}:prod", sm.arn),
        state_machine_arn: sm.arn.clone(),
        name: "prod".into(),
        description: None,
        routing: vec![
            RoutingEntry {
                version_arn: v1.arn.clone(),
                weight: 90,
            },
            RoutingEntry {
                version_arn: v3.arn.clone(),
                weight: 10,
            },
        ],
        creation_date: 6,
        update_date: 6,
    };
    s.create_alias(alias.clone()).unwrap();
    assert_eq!(
        s.create_alias(alias.clone()),
        Err(Error::AlreadyExists {
            arn: alias.arn.clone(),
            identical: true
        })
    );
    let mut moved = alias.clone();
    moved.routing.truncate(1);
    moved.routing[0].weight = 100;
    moved.update_date = 7;
    s.update_alias(moved.clone()).unwrap();
    assert_eq!(s.get_alias(&alias.arn).unwrap(), moved);
    assert_eq!(s.list_aliases(&sm.arn, &all()).unwrap().items, vec![moved]);
    s.tag_resource(
        &alias.arn,
        vec![Tag {
            key: "k".into(),
            value: "v".into(),
        }],
    )
    .unwrap();

    // Deleting the state machine takes its versions, aliases and their tags with it.
    s.delete_state_machine(&sm.arn).unwrap();
    assert!(matches!(s.get_version(&v1.arn), Err(Error::NotFound(_))));
    assert!(matches!(s.get_alias(&alias.arn), Err(Error::NotFound(_))));
    assert!(s.list_tags(&alias.arn).unwrap().is_empty());
    assert!(s.list_versions(&sm.arn, &all()).unwrap().items.is_empty());
}

fn executions_and_filters<S: Store>(s: &S) {
    let e1 = execution("a", "one", "{\"x\":1}");
    s.create_execution(e1.clone()).unwrap();
    assert_eq!(s.get_execution(&e1.arn).unwrap(), e1);
    assert_eq!(
        s.create_execution(e1.clone()),
        Err(Error::AlreadyExists {
            arn: e1.arn.clone(),
            identical: true
        })
    );
    let other_input = execution("a", "one", "{\"x\":2}");
    assert_eq!(
        s.create_execution(other_input),
        Err(Error::AlreadyExists {
            arn: e1.arn.clone(),
            identical: false
        })
    );

    let mut e2 = execution("a", "two", "{}");
    e2.version_arn = Some(format!("{}:1", sm_arn("a")));
    let e3 = execution("b", "three", "{}");
    let mut child = execution("a", "child", "{}");
    child.parent_arn = Some(e1.arn.clone());
    for e in [&e2, &e3, &child] {
        s.create_execution(e.clone()).unwrap();
    }
    s.append_events(
        &e2.arn,
        events(1..=2),
        Some(closed(ExecutionStatus::Succeeded)),
    )
    .unwrap();

    // Once closed, a repeat with the same input is no longer idempotent.
    assert_eq!(
        s.create_execution(execution("a", "two", "{}")),
        Err(Error::AlreadyExists {
            arn: e2.arn.clone(),
            identical: false
        })
    );

    let names = |f: ExecutionFilter| -> Vec<String> {
        let p = s.list_executions(&f, &all()).unwrap();
        p.items.into_iter().map(|e| e.name).collect()
    };
    assert_eq!(
        names(ExecutionFilter::default()),
        ["child", "three", "two", "one"],
        "newest first"
    );
    let by_sm = ExecutionFilter {
        state_machine_arn: Some(sm_arn("a")),
        ..Default::default()
    };
    assert_eq!(names(by_sm.clone()), ["child", "two", "one"]);
    let running = ExecutionFilter {
        status: Some(ExecutionStatus::Running),
        ..by_sm.clone()
    };
    assert_eq!(names(running), ["child", "one"]);
    let by_version = ExecutionFilter {
        state_machine_arn: e2.version_arn.clone(),
        ..Default::default()
    };
    assert_eq!(names(by_version), ["two"]);
    let by_parent = ExecutionFilter {
        parent_arn: Some(e1.arn.clone()),
        ..Default::default()
    };
    assert_eq!(names(by_parent), ["child"]);
    let redriven = |r: bool| ExecutionFilter {
        redriven: Some(r),
        ..Default::default()
    };
    assert!(names(redriven(true)).is_empty());
    assert_eq!(names(redriven(false)).len(), 4);

    // Paging newest first.
    let first = s
        .list_executions(&ExecutionFilter::default(), &PageRequest::first(3))
        .unwrap();
    assert_eq!(first.items.len(), 3);
    let rest = s
        .list_executions(
            &ExecutionFilter::default(),
            &PageRequest {
                max_results: 3,
                next_token: first.next_token,
            },
        )
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].name, "one");
    assert_eq!(rest.next_token, None);

    let got = s.get_execution(&e2.arn).unwrap();
    assert_eq!(got.status, ExecutionStatus::Succeeded);
    assert_eq!(got.output.as_deref(), Some("{}"));
    assert_eq!(got.stop_date, Some(1_700_000_001_000));
    assert_eq!(got.last_event_id, 2);
    assert!(matches!(s.get_execution("nope"), Err(Error::NotFound(_))));
}

fn recovery_finds_open_executions<S: Store>(s: &S) {
    for i in 0..5 {
        let e = execution("r", &format!("e{i}"), "{}");
        s.create_execution(e.clone()).unwrap();
        s.append_events(&e.arn, events(1..=3), None).unwrap();
        if i % 2 == 1 {
            s.append_events(
                &e.arn,
                vec![event(4)],
                Some(closed(ExecutionStatus::Failed)),
            )
            .unwrap();
        }
    }
    let mut open = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = s.open_executions(&page).unwrap();
        open.extend(p.items);
        match p.next_token {
            Some(t) => page.next_token = Some(t),
            None => break,
        }
    }
    let names: Vec<_> = open.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["e0", "e2", "e4"], "oldest first, running only");
    assert!(open.iter().all(|e| e.last_event_id == 3));
    // Replay reads the stored history in chunks.
    let e = &open[1];
    let mut replayed = Vec::new();
    let mut after = 0;
    loop {
        let chunk = s.events_after(&e.arn, after, 2).unwrap();
        let Some(last) = chunk.last() else { break };
        after = last.id;
        replayed.extend(chunk);
    }
    assert_eq!(replayed, events(1..=3));
}

fn history_contiguity<S: Store>(s: &S) {
    let e = execution("h", "x", "{}");
    s.create_execution(e.clone()).unwrap();
    assert!(matches!(
        s.append_events(&e.arn, vec![event(2)], None),
        Err(Error::Conflict(_))
    ));
    s.append_events(&e.arn, events(1..=3), None).unwrap();
    // A gap, a repeat, a hole inside the batch: all refused, and none leaves a trace.
    for bad in [
        vec![event(5)],
        vec![event(3)],
        vec![event(4), event(6)],
        vec![event(4), event(4)],
    ] {
        assert!(matches!(
            s.append_events(&e.arn, bad, Some(closed(ExecutionStatus::Failed))),
            Err(Error::Conflict(_))
        ));
    }
    let got = s.get_execution(&e.arn).unwrap();
    assert_eq!(
        (got.last_event_id, got.status),
        (3, ExecutionStatus::Running)
    );
    s.append_events(&e.arn, vec![], None).unwrap();
    assert!(matches!(
        s.append_events("nope", events(1..=1), None),
        Err(Error::NotFound(_))
    ));
    s.append_events(&e.arn, events(4..=10), None).unwrap();

    // Forward and reverse, paginated.
    let read_all = |reverse: bool| {
        let mut out = Vec::new();
        let mut page = PageRequest::first(4);
        loop {
            let p = s.read_events(&e.arn, &page, reverse).unwrap();
            assert!(p.items.len() <= 4);
            out.extend(p.items.into_iter().map(|ev| ev.id));
            match p.next_token {
                Some(t) => page.next_token = Some(t),
                None => break,
            }
        }
        out
    };
    assert_eq!(read_all(false), (1..=10).collect::<Vec<_>>());
    assert_eq!(read_all(true), (1..=10).rev().collect::<Vec<_>>());
    assert_eq!(
        s.read_events(&e.arn, &all(), false).unwrap().items,
        events(1..=10)
    );
    let forward_token = s
        .read_events(&e.arn, &PageRequest::first(2), false)
        .unwrap()
        .next_token;
    let wrong_way = PageRequest {
        max_results: 2,
        next_token: forward_token,
    };
    assert!(matches!(
        s.read_events(&e.arn, &wrong_way, true),
        Err(Error::InvalidToken(_))
    ));
    assert!(matches!(
        s.read_events("nope", &all(), false),
        Err(Error::NotFound(_))
    ));
    assert_eq!(s.events_after(&e.arn, 8, 100).unwrap(), events(9..=10));
    assert!(s.events_after(&e.arn, 10, 100).unwrap().is_empty());
}

fn concurrent_appends<S: Store>(s: &S) {
    // Many executions, each written by its own thread, event by event.
    let arns: Vec<String> = (0..16)
        .map(|i| {
            let e = execution("c", &format!("e{i}"), "{}");
            s.create_execution(e.clone()).unwrap();
            e.arn
        })
        .collect();
    std::thread::scope(|scope| {
        for arn in &arns {
            scope.spawn(move || {
                for id in 1..=40 {
                    s.append_events(arn, vec![event(id)], None).unwrap();
                }
            });
        }
    });
    for arn in &arns {
        assert_eq!(
            s.read_events(arn, &all(), false).unwrap().items,
            events(1..=40)
        );
    }

    // Several threads racing on ONE execution: each reads the last id and tries the next one.
    // The contiguity check lets exactly one win each id; losers retry.
    let e = execution("c", "contended", "{}");
    s.create_execution(e.clone()).unwrap();
    let wins: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let arn = &e.arn;
                scope.spawn(move || {
                    let mut wins = 0;
                    let mut conflicts = 0;
                    while wins < 25 && conflicts < 10_000 {
                        let next = s.get_execution(arn).unwrap().last_event_id + 1;
                        match s.append_events(arn, vec![event(next)], None) {
                            Ok(()) => wins += 1,
                            Err(Error::Conflict(_)) => conflicts += 1,
                            Err(other) => panic!("{other}"),
                        }
                    }
                    wins
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total: usize = wins.iter().sum();
    assert_eq!(total, 100);
    let stored = s.read_events(&e.arn, &all(), false).unwrap().items;
    assert_eq!(stored, events(1..=100), "no event twice, no gap");
}

fn timers<S: Store>(s: &S) {
    let t = |arn: &str, key: &str, at: i64| TimerRecord {
        execution_arn: arn.into(),
        key: key.into(),
        fire_at: at,
    };
    s.set_timer(t("e1", "wait", 300)).unwrap();
    s.set_timer(t("e2", "retry", 100)).unwrap();
    s.set_timer(t("e1", "timeout", 200)).unwrap();
    s.set_timer(t("e3", "wait", 900)).unwrap();
    assert_eq!(
        s.due_timers(300, 10).unwrap(),
        vec![
            t("e2", "retry", 100),
            t("e1", "timeout", 200),
            t("e1", "wait", 300)
        ]
    );
    assert_eq!(s.due_timers(300, 1).unwrap(), vec![t("e2", "retry", 100)]);
    assert!(s.due_timers(99, 10).unwrap().is_empty());
    // Same key moves the timer.
    s.set_timer(t("e2", "retry", 1000)).unwrap();
    assert_eq!(s.due_timers(300, 10).unwrap().len(), 2);
    s.cancel_timer("e1", "timeout").unwrap();
    s.cancel_timer("e1", "never-set").unwrap();
    assert_eq!(s.timers_for("e1").unwrap(), vec![t("e1", "wait", 300)]);
    assert_eq!(
        s.due_timers(i64::MAX, 10).unwrap(),
        vec![
            t("e1", "wait", 300),
            t("e3", "wait", 900),
            t("e2", "retry", 1000)
        ]
    );
}

fn activities_and_task_tokens<S: Store>(s: &S) {
    let a = activity("worker");
    s.create_activity(a.clone()).unwrap();
    assert_eq!(
        s.create_activity(a.clone()),
        Err(Error::AlreadyExists {
            arn: a.arn.clone(),
            identical: true
        })
    );
    s.create_activity(activity("other")).unwrap();
    let listed = s.list_activities(&all()).unwrap().items;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], a);

    let exec = execution("t", "x", "{}");
    s.put_task_token(token("tok-1", &exec.arn, Some(&a.arn)))
        .unwrap();
    s.put_task_token(token("tok-2", &exec.arn, Some(&a.arn)))
        .unwrap();
    s.put_task_token(token("cb-1", &exec.arn, None)).unwrap();
    assert!(matches!(
        s.put_task_token(token("tok-1", &exec.arn, None)),
        Err(Error::AlreadyExists { .. })
    ));

    let got = s
        .claim_activity_task(&a.arn, Some("w1".into()), 1_000)
        .unwrap()
        .expect("a task");
    assert_eq!(got.token, "tok-1", "oldest first");
    assert_eq!(got.status, TaskTokenStatus::Started);
    assert_eq!(got.worker_name.as_deref(), Some("w1"));
    assert_eq!(got.heartbeat_deadline, Some(31_000));
    assert_eq!(s.get_task_token("tok-1").unwrap(), got);
    let second = s.claim_activity_task(&a.arn, None, 1_000).unwrap();
    assert_eq!(second.map(|t| t.token).as_deref(), Some("tok-2"));
    assert_eq!(s.claim_activity_task(&a.arn, None, 1_000).unwrap(), None);
    assert_eq!(
        s.claim_activity_task(&activity("other").arn, None, 1)
            .unwrap(),
        None
    );

    // Compare-and-set on status: SendTaskSuccess after a timeout must lose.
    let mut done = got.clone();
    done.status = TaskTokenStatus::Succeeded;
    done.output = Some("{\"ok\":true}".into());
    s.update_task_token(done.clone(), vec![TaskTokenStatus::Started])
        .unwrap();
    let mut late = got.clone();
    late.status = TaskTokenStatus::TimedOut;
    assert!(matches!(
        s.update_task_token(late, vec![TaskTokenStatus::Started]),
        Err(Error::Conflict(_))
    ));
    assert_eq!(s.get_task_token("tok-1").unwrap(), done);
    assert!(matches!(
        s.update_task_token(token("nope", "x", None), vec![]),
        Err(Error::NotFound(_))
    ));
    let tokens: Vec<_> = s
        .task_tokens_for(&exec.arn)
        .unwrap()
        .into_iter()
        .map(|t| t.token)
        .collect();
    assert_eq!(tokens, ["tok-1", "tok-2", "cb-1"]);

    s.delete_activity(&a.arn).unwrap();
    assert!(matches!(s.get_activity(&a.arn), Err(Error::NotFound(_))));
    assert!(matches!(s.delete_activity(&a.arn), Err(Error::NotFound(_))));
}

fn tags<S: Store>(s: &S) {
    let a = activity("tagged");
    s.create_activity(a.clone()).unwrap();
    let tag = |k: &str, v: &str| Tag {
        key: k.into(),
        value: v.into(),
    };
    s.tag_resource(&a.arn, vec![tag("team", "x"), tag("env", "dev")])
        .unwrap();
    s.tag_resource(&a.arn, vec![tag("env", "prod")]).unwrap();
    assert_eq!(
        s.list_tags(&a.arn).unwrap(),
        vec![tag("env", "prod"), tag("team", "x")]
    );
    s.untag_resource(&a.arn, vec!["team".into(), "absent".into()])
        .unwrap();
    assert_eq!(s.list_tags(&a.arn).unwrap(), vec![tag("env", "prod")]);
    assert!(s.list_tags("unknown").unwrap().is_empty());
    s.delete_activity(&a.arn).unwrap();
    assert!(s.list_tags(&a.arn).unwrap().is_empty());
}

fn batch_semantics<S: Store>(s: &S) {
    let a = execution("b", "a", "{}");
    let b = execution("b", "b", "{}");
    s.create_execution(a.clone()).unwrap();
    s.create_execution(b.clone()).unwrap();
    s.append_events(&b.arn, events(1..=2), None).unwrap();
    let timer = TimerRecord {
        execution_arn: b.arn.clone(),
        key: "wait".into(),
        fire_at: 10,
    };

    let results = s
        .write_batch(vec![
            WriteOp::AppendEvents {
                execution_arn: a.arn.clone(),
                events: events(1..=3),
                update: None,
            },
            // A gap: this op fails alone.
            WriteOp::AppendEvents {
                execution_arn: b.arn.clone(),
                events: vec![event(9)],
                update: Some(closed(ExecutionStatus::Failed)),
            },
            WriteOp::CreateStateMachine(state_machine("batched", "{}")),
            // A group whose last op fails leaves nothing of its earlier ops.
            WriteOp::Group(vec![
                WriteOp::AppendEvents {
                    execution_arn: b.arn.clone(),
                    events: vec![event(3)],
                    update: None,
                },
                WriteOp::SetTimer(timer.clone()),
                WriteOp::DeleteActivity("absent".into()),
            ]),
            // A later op of the same batch sees what the earlier ones wrote.
            WriteOp::AppendEvents {
                execution_arn: a.arn.clone(),
                events: vec![event(4)],
                update: Some(closed(ExecutionStatus::Succeeded)),
            },
            WriteOp::Group(vec![
                WriteOp::AppendEvents {
                    execution_arn: b.arn.clone(),
                    events: vec![event(3)],
                    update: None,
                },
                WriteOp::SetTimer(timer.clone()),
                WriteOp::PublishVersion(VersionRecord {
                    arn: String::new(),
                    state_machine_arn: sm_arn("batched"),
                    version: 0,
                    definition: "{}".into(),
                    role_arn: "r".into(),
                    revision_id: "rev-1".into(),
                    description: None,
                    creation_date: 1,
                }),
            ]),
        ])
        .unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(results[0], Ok(WriteOutcome::Done));
    assert!(matches!(results[1], Err(Error::Conflict(_))));
    assert_eq!(results[2], Ok(WriteOutcome::Done));
    assert!(matches!(results[3], Err(Error::NotFound(_))));
    assert_eq!(results[4], Ok(WriteOutcome::Done));
    match &results[5] {
        Ok(WriteOutcome::Group(outs)) => {
            assert_eq!(outs.len(), 3);
            assert!(matches!(&outs[2], WriteOutcome::Version(v) if v.version == 1));
        }
        other => panic!("{other:?}"),
    }

    let got_a = s.get_execution(&a.arn).unwrap();
    assert_eq!(
        (got_a.last_event_id, got_a.status),
        (4, ExecutionStatus::Succeeded)
    );
    let got_b = s.get_execution(&b.arn).unwrap();
    assert_eq!(
        (got_b.last_event_id, got_b.status),
        (3, ExecutionStatus::Running)
    );
    assert_eq!(
        s.read_events(&b.arn, &all(), false).unwrap().items,
        events(1..=3)
    );
    assert_eq!(s.timers_for(&b.arn).unwrap(), vec![timer]);
    assert!(s.get_state_machine(&sm_arn("batched")).is_ok());
    assert_eq!(s.write_batch(vec![]).unwrap(), vec![]);
}
fn map_runs<S: Store>(s: &S) {
    let run = |n: u32, exec: &str| MapRunRecord {
        arn: format!("arn:aws:states:us-east-1:123456789012:mapRun:m/L:{n}"),
        execution_arn: exec.to_string(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m/L".into(),
        status: MapRunStatus::Running,
        start_date: 1_700_000_000_000,
        stop_date: None,
        max_concurrency: 0,
        tolerated_failure_percentage: 0.0,
        tolerated_failure_count: 0,
        item_counts: MapRunCounts::default(),
        execution_counts: MapRunCounts::default(),
        redrive_count: 0,
        redrive_date: None,
    };
    let (a, b) = ("arn:exec:a", "arn:exec:b");
    for n in 0..3 {
        s.put_map_run(run(n, a)).unwrap();
    }
    s.put_map_run(run(9, b)).unwrap();
    assert!(matches!(s.get_map_run("nope"), Err(Error::NotFound(_))));
    // A put replaces the record and keeps its place (newest first).
    let mut done = run(0, a);
    done.status = MapRunStatus::Succeeded;
    done.stop_date = Some(1_700_000_001_000);
    done.item_counts.succeeded = 5;
    done.tolerated_failure_percentage = 12.5;
    s.put_map_run(done.clone()).unwrap();
    assert_eq!(s.get_map_run(&done.arn).unwrap(), done);
    let first = s.list_map_runs(a, &PageRequest::first(2)).unwrap();
    let arns: Vec<_> = first.items.iter().map(|r| r.arn.clone()).collect();
    assert_eq!(arns, [run(2, a).arn, run(1, a).arn]);
    let rest = s
        .list_map_runs(
            a,
            &PageRequest {
                max_results: 2,
                next_token: first.next_token.clone(),
            },
        )
        .unwrap();
    assert_eq!(rest.items, vec![done]);
    assert_eq!(rest.next_token, None);
    assert_eq!(s.list_map_runs(b, &all()).unwrap().items.len(), 1);
    assert!(s.list_map_runs("none", &all()).unwrap().items.is_empty());
}

macro_rules! suite {
    ($backend:ident, $open:expr) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            suite!(@tests $open;
                state_machine_crud,
                pagination_is_stable_and_ordered,
                versions_and_aliases,
                executions_and_filters,
                recovery_finds_open_executions,
                history_contiguity,
                concurrent_appends,
                timers,
                activities_and_task_tokens,
                tags,
                batch_semantics,
                map_runs
            );
        }
    };
    (@tests $open:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let (store, _dir) = $open;
                super::$name(&store);
            }
        )*
    };
}

suite!(memory, (MemoryStore::new(), ()));
suite!(sqlite, {
    let dir = TempDir::new("suite");
    (SqliteStore::open(dir.db()).expect("open"), dir)
});
suite!(cached_sqlite, {
    let dir = TempDir::new("suite-cached");
    let inner: std::sync::Arc<dyn Store> =
        std::sync::Arc::new(SqliteStore::open(dir.db()).expect("open"));
    (CachedStore::new(inner), dir)
});
suite!(sqlite_no_group_commit, {
    let dir = TempDir::new("suite-single");
    let options = SqliteOptions {
        group_commit: false,
        synchronous: Synchronous::Normal,
        ..Default::default()
    };
    (
        SqliteStore::open_with(dir.db(), options).expect("open"),
        dir,
    )
});

/// Everything written is there after the store is closed and the file opened again, and the
/// reopened store carries on (ids, version numbers, sequence order).
#[test]
fn sqlite_reopen_sees_everything() {
    let dir = TempDir::new("reopen");
    let sm = state_machine("durable", "{}");
    let e = execution("durable", "x", "{\"in\":1}");
    let a = activity("durable");
    let tok = token("tok", &e.arn, Some(&a.arn));
    let timer = TimerRecord {
        execution_arn: e.arn.clone(),
        key: "wait".into(),
        fire_at: 42,
    };
    let tag = Tag {
        key: "k".into(),
        value: "v".into(),
    };
    let v1;
    {
        let s = SqliteStore::open(dir.db()).unwrap();
        s.create_state_machine(sm.clone()).unwrap();
        v1 = s
            .publish_version(VersionRecord {
                arn: String::new(),
                state_machine_arn: sm.arn.clone(),
                version: 0,
                definition: "{}".into(),
                role_arn: "r".into(),
                revision_id: "rev-1".into(),
                description: None,
                creation_date: 1,
            })
            .unwrap();
        s.create_execution(e.clone()).unwrap();
        s.append_events(&e.arn, events(1..=5), None).unwrap();
        s.create_activity(a.clone()).unwrap();
        s.put_task_token(tok.clone()).unwrap();
        s.set_timer(timer.clone()).unwrap();
        s.tag_resource(&sm.arn, vec![tag.clone()]).unwrap();
    }
    let s = SqliteStore::open(dir.db()).unwrap();
    assert_eq!(s.get_state_machine(&sm.arn).unwrap(), sm);
    assert_eq!(s.get_version(&v1.arn).unwrap(), v1);
    let mut stored = e.clone();
    stored.last_event_id = 5;
    assert_eq!(s.get_execution(&e.arn).unwrap(), stored);
    assert_eq!(
        s.read_events(&e.arn, &all(), false).unwrap().items,
        events(1..=5)
    );
    assert_eq!(s.open_executions(&all()).unwrap().items, vec![stored]);
    assert_eq!(s.due_timers(100, 10).unwrap(), vec![timer]);
    assert_eq!(s.get_activity(&a.arn).unwrap(), a);
    assert_eq!(s.get_task_token("tok").unwrap(), tok);
    assert_eq!(s.list_tags(&sm.arn).unwrap(), vec![tag]);

    assert!(matches!(
        s.append_events(&e.arn, vec![event(5)], None),
        Err(Error::Conflict(_))
    ));
    s.append_events(&e.arn, vec![event(6)], None).unwrap();
    s.delete_version(&v1.arn).unwrap();
    let mut again = v1.clone();
    again.arn = String::new();
    assert_eq!(s.publish_version(again).unwrap().version, 2);
    s.create_state_machine(state_machine("second", "{}"))
        .unwrap();
    let names: Vec<_> = s
        .list_state_machines(&all())
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["durable", "second"]);
}

/// Two stores on one file (two processes, in production): writes of one are seen by the other.
#[test]
fn sqlite_two_handles_share_the_file() {
    let dir = TempDir::new("two");
    let one = SqliteStore::open(dir.db()).unwrap();
    let two = SqliteStore::open(dir.db()).unwrap();
    let e = execution("s", "x", "{}");
    one.create_execution(e.clone()).unwrap();
    two.append_events(&e.arn, events(1..=2), None).unwrap();
    assert!(matches!(
        one.append_events(&e.arn, events(1..=2), None),
        Err(Error::Conflict(_))
    ));
    assert_eq!(one.get_execution(&e.arn).unwrap().last_event_id, 2);
}
