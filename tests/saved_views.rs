//! Saved views: the dashboard's run, comparison, layout, filter, sort, threshold and case are
//! kept per pack in `.lightbox/views.json` and restored when the pack is opened again; named
//! views with `:view`. The app is driven without a terminal, and what it asks the writer thread
//! to write is written with the writer itself.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use lightbox::pack::Pack;
use lightbox::tui::app::{App, Effect, Layout, SortKey};
use lightbox::tui::config::Config;
use lightbox::tui::saved_view::{Change, SavedView, VIEWS_FILE, Views};
use std::path::Path;
use std::sync::Arc;

/// A copy of the sample pack (views are written inside the pack).
fn pack_copy() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    common::copy_dir(&common::sample(), d.path());
    // a sample someone has opened has a views file of its own
    let _ = std::fs::remove_dir_all(d.path().join(".lightbox"));
    d
}

/// The dashboard as `lightbox open` starts it: on the newest run, then the saved view.
fn open(root: &Path) -> App {
    let pack = Arc::new(Pack::open(root).unwrap());
    let mut a = App::new(pack, Config::defaults(), "halfblocks".into());
    a.run = a.pack.runs.len().checked_sub(1);
    a.refresh_order();
    a.saved_views = Views::load(a.pack.root.as_deref()).unwrap();
    a.restore_last_view();
    a
}

/// What the writer thread would be handed now, written as it writes it.
fn write_effects(a: &mut App, root: &Path) -> Vec<Change> {
    let effects = a.take_effects();
    write(root, effects)
}

/// The view changes among `effects`, written as the writer thread writes them.
fn write(root: &Path, effects: Vec<Effect>) -> Vec<Change> {
    let changes: Vec<Change> = effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::SaveView(c) => Some(c),
            _ => None,
        })
        .collect();
    if !changes.is_empty() {
        Views::write(&root.join(VIEWS_FILE), &changes).unwrap();
    }
    changes
}

fn notice(a: &App) -> String {
    a.notice.as_ref().map(|n| n.text.clone()).unwrap_or_default()
}

#[test]
fn the_view_a_pack_was_left_with_is_restored_when_it_is_opened_again() {
    let d = pack_copy();
    let mut a = open(d.path());
    // nothing is written by just opening a pack
    assert!(write_effects(&mut a, d.path()).is_empty());
    assert!(!d.path().join(VIEWS_FILE).exists());
    assert_eq!(a.pack.runs[a.run.unwrap()].name.0, "candidate");
    a.command("compare baseline");
    let toggled = a.update(lightbox::tui::action::Action::ToggleError);
    // each step is a change the writer hears of (it writes the newest of a burst)
    assert!(matches!(write(d.path(), toggled).as_slice(), [Change::Last(v)] if v.errors));
    a.command("threshold 0.3");
    a.set_filter("score>=0.9");
    a.set_sort(SortKey::Error);
    write_effects(&mut a, d.path());
    a.update(lightbox::tui::action::Action::NextCase);
    let moved = a.update(lightbox::tui::action::Action::NextCase);
    let here = a.case().unwrap();
    let order = a.order.clone();
    let changes = write(d.path(), moved);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let Change::Last(v) = &changes[0] else {
        panic!("{changes:?}")
    };
    assert_eq!(v.run.as_deref(), Some("candidate"));
    assert_eq!(v.compare.as_deref(), Some("baseline"));
    assert_eq!(v.filter.as_deref(), Some("score>=0.9"));
    assert_eq!(v.sort.as_deref(), Some("error"));
    assert!(v.errors);
    assert_eq!(v.case.as_deref(), Some(a.pack.cases[here].id.0.as_str()));
    // unchanged: nothing more to write
    assert!(write_effects(&mut a, d.path()).is_empty());

    // opened again (from the file alone)
    let b = open(d.path());
    assert_eq!(b.run, a.run);
    assert_eq!(b.compare, a.compare);
    assert_eq!(b.compare_pair(), a.compare_pair());
    assert_eq!(b.layout, Layout::RunRun);
    assert!(b.error_view);
    assert_eq!(b.style.score_threshold, 0.3);
    assert_eq!(b.filter.as_ref().map(|f| f.0.as_str()), Some("score>=0.9"));
    assert_eq!(b.sort, SortKey::Error);
    assert_eq!(b.order, order);
    assert_eq!(b.case(), Some(here));
    let n = notice(&b);
    assert!(n.contains("as you left it") && n.contains(":view reset"), "{n}");
    assert_eq!(
        b.describe_view(&b.saved_view()),
        "run candidate · compared with baseline · errors · filter score>=0.9 (7 of 40) · sort error · threshold 0.30 · at case-024.jpg"
    );

    // :view reset: the default view, on the same case
    let mut b = b;
    b.command("view reset");
    assert_eq!(b.compare, None);
    assert_eq!(b.layout, Layout::Single);
    assert!(!b.error_view && b.filter.is_none());
    assert_eq!(b.sort, SortKey::Case);
    assert_eq!(b.order.len(), 40);
    assert_eq!(b.case(), Some(here));
    assert_eq!(b.pack.runs[b.run.unwrap()].name.0, "candidate");
}

#[test]
fn what_no_longer_fits_the_pack_is_named_and_the_rest_restored() {
    let d = pack_copy();
    let stale = SavedView {
        run: Some("candidate".into()),
        compare: Some("retired-model".into()),
        layout: Some("run-run".into()),
        filter: Some("class:tumour".into()),
        sort: Some("max score".into()),
        case: Some("case-999.jpg".into()),
        threshold: Some(7.0),
        ..SavedView::default()
    };
    Views::write(&d.path().join(VIEWS_FILE), &[Change::Last(stale)]).unwrap();
    let a = open(d.path());
    let n = notice(&a);
    for said in ["retired-model", "class:tumour", "case-999.jpg", "threshold 7"] {
        assert!(n.contains(said), "{said:?} not in {n:?}");
    }
    assert!(a.notice.as_ref().unwrap().severity.is_some(), "a caution: {n}");
    // what does fit is restored
    assert_eq!(a.sort, SortKey::MaxScore);
    assert_eq!(a.layout, Layout::RunRun);
    assert!(a.filter.is_none() && a.compare.is_none());
    assert_eq!(a.order.len(), 40);
    assert_eq!(a.pos, 0);
}

#[test]
fn a_run_named_on_the_command_line_wins_over_the_saved_one() {
    let d = pack_copy();
    let saved = SavedView {
        run: Some("candidate".into()),
        compare: Some("baseline".into()),
        ..SavedView::default()
    };
    Views::write(&d.path().join(VIEWS_FILE), &[Change::Last(saved)]).unwrap();
    // as lightbox::tui::run does with `--run baseline`
    let pack = Arc::new(Pack::open(d.path()).unwrap());
    let mut a = App::new(pack, Config::defaults(), "halfblocks".into());
    let mut views = Views::load(a.pack.root.as_deref()).unwrap();
    let last = views.last.as_mut().unwrap();
    last.run = Some("baseline".into());
    last.compare = None;
    a.saved_views = views;
    a.restore_last_view();
    assert_eq!(a.pack.runs[a.run.unwrap()].name.0, "baseline");
}

#[test]
fn named_views_are_saved_opened_listed_and_deleted() {
    let d = pack_copy();
    let mut a = open(d.path());
    a.command("view");
    assert!(notice(&a).contains("no saved views"), "{}", notice(&a));
    a.set_filter("id:case-00");
    a.set_sort(SortKey::Flags);
    a.command("view save critical");
    assert!(notice(&a).contains("view critical saved"), "{}", notice(&a));
    let critical = a.order.clone();
    write_effects(&mut a, d.path());
    a.command("view reset");
    assert_eq!(a.order.len(), 40);
    a.command("view critical");
    assert_eq!(a.order, critical);
    assert_eq!(a.sort, SortKey::Flags);
    // bad names and unknown views are refused with the names there are
    a.command("view save two/words");
    assert!(notice(&a).contains("not a view name"), "{}", notice(&a));
    a.command("view nothing");
    assert!(notice(&a).contains("views: critical"), "{}", notice(&a));
    write_effects(&mut a, d.path());
    // kept in the file: another session lists it
    let mut b = open(d.path());
    b.command("view");
    assert!(notice(&b).contains("views: critical"), "{}", notice(&b));
    b.command("view delete critical");
    write_effects(&mut b, d.path());
    assert!(Views::load(Some(d.path())).unwrap().named.is_empty());
}

#[test]
fn a_review_session_neither_restores_nor_writes_a_view() {
    let d = pack_copy();
    let mut a = open(d.path());
    a.set_filter("score>=0.9");
    write_effects(&mut a, d.path());
    let before = std::fs::read_to_string(d.path().join(VIEWS_FILE)).unwrap();
    // a review session starts from the plan: the review command never restores, and a
    // dashboard in review mode asks for no writes
    let pack = Arc::new(Pack::open(d.path()).unwrap());
    let run = pack.run_index("candidate").unwrap();
    let plan = lightbox::review::Plan::make(&pack, run, &[], &[], 3, 7);
    let tmp = tempfile::tempdir().unwrap();
    let identity = lightbox::review::Identity {
        release: "v1".into(),
        reviewer: "alice".into(),
        role: None,
    };
    let session =
        lightbox::review::Session::start(&pack, run, identity, plan.clone(), &tmp.path().join("a.jsonl")).unwrap();
    let mut r = App::new(Arc::clone(&pack), Config::defaults(), "halfblocks".into());
    r.run = Some(run);
    let rv = lightbox::tui::review::ReviewMode::new(
        "v1".into(),
        "alice".into(),
        plan,
        session.state.clone(),
        session.progress(),
        Vec::new(),
    );
    r.start_review(rv);
    r.saved_views = Views::load(r.pack.root.as_deref()).unwrap();
    r.last_view = Some(r.saved_view());
    r.set_filter("id:case-00");
    r.update(lightbox::tui::action::Action::NextCase);
    assert!(write_effects(&mut r, d.path()).is_empty());
    r.command("view save mine");
    assert!(notice(&r).contains("not kept in a review session"), "{}", notice(&r));
    assert_eq!(std::fs::read_to_string(d.path().join(VIEWS_FILE)).unwrap(), before);
}

#[test]
fn a_damaged_views_file_is_reported_and_left_alone() {
    let d = pack_copy();
    let p = d.path().join(VIEWS_FILE);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, "{\"lightbox_views\": 1, \"last\": {\"run\": \"cand").unwrap();
    let e = Views::load(Some(d.path())).unwrap_err().to_string();
    assert!(e.contains("views.json:1:") && e.contains("will not overwrite"), "{e}");
    let e = Views::write(&p, &[Change::Last(SavedView::default())])
        .unwrap_err()
        .to_string();
    assert!(e.contains("views.json"), "{e}");
    assert!(std::fs::read_to_string(&p).unwrap().ends_with("\"cand"));
}
