//! Everything a person can do in the dashboard, as data: keys map to these (keymap), the help
//! overlay lists them, tests send them.

use serde::Deserialize;

macro_rules! actions {
    ($( $group:literal { $( $variant:ident = $name:literal : $doc:literal ),* $(,)? } )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Action {
            $( $( $variant, )* )*
        }

        impl Action {
            /// Every action with its group, keymap name and description, in help order.
            pub const ALL: &'static [(&'static str, Action, &'static str, &'static str)] = &[
                $( $( ($group, Action::$variant, $name, $doc), )* )*
            ];
        }
    };
}

actions! {
    "Move" {
        NextCase = "next_case": "next case (in the image pane: move the pixel cursor)",
        PrevCase = "prev_case": "previous case (in the image pane: move the pixel cursor)",
        FirstCase = "first_case": "first case",
        LastCase = "last_case": "last case",
        PageDown = "page_down": "ten cases down (in the details pane: scroll it down)",
        PageUp = "page_up": "ten cases up (in the details pane: scroll it up)",
        Left = "left": "previous case (in the image pane: move the pixel cursor left)",
        Right = "right": "next case (in the image pane: move the pixel cursor right)",
        NextPane = "next_pane": "focus the next pane (cases, image, details)",
        PrevPane = "prev_pane": "focus the previous pane",
    }
    "View" {
        CycleGroundTruth = "cycle_ground_truth": "ground truth: outline, fill, off",
        CycleRun = "cycle_run": "show the next run (or none)",
        ToggleError = "toggle_error": "error view: agree, extra (false positive), missed (false negative)",
        CycleLayout = "cycle_layout": "side by side: single, ground truth | run, run A | run B",
        FlipRuns = "flip_runs": "swap the two runs in place (compare mode): same case, zoom and window",
        ToggleFill = "toggle_fill": "mask fills on/off",
        ToggleOutline = "toggle_outline": "mask outlines on/off",
        ToggleBoxes = "toggle_boxes": "boxes on/off",
        FillMore = "fill_more": "fill opacity up",
        FillLess = "fill_less": "fill opacity down",
        OutlineMore = "outline_more": "outline opacity up",
        OutlineLess = "outline_less": "outline opacity down",
        ThresholdUp = "threshold_up": "score threshold up (hide low-scoring predictions)",
        ThresholdDown = "threshold_down": "score threshold down",
        ToggleClass1 = "toggle_class_1": "class 1 on/off",
        ToggleClass2 = "toggle_class_2": "class 2 on/off",
        ToggleClass3 = "toggle_class_3": "class 3 on/off",
        ToggleClass4 = "toggle_class_4": "class 4 on/off",
        ToggleClass5 = "toggle_class_5": "class 5 on/off",
        ToggleClass6 = "toggle_class_6": "class 6 on/off",
        ToggleClass7 = "toggle_class_7": "class 7 on/off",
        ToggleClass8 = "toggle_class_8": "class 8 on/off",
        ToggleClass9 = "toggle_class_9": "class 9 on/off",
        ToggleDetails = "toggle_details": "details pane on/off",
        ToggleMetrics = "toggle_metrics": "metrics: tables, confusion, PR curves",
        ToggleNetwork = "toggle_network": "network's-eye view: the model's input",
    }
    "Image" {
        ZoomIn = "zoom_in": "zoom in",
        ZoomOut = "zoom_out": "zoom out",
        ZoomFit = "zoom_fit": "fit the image to the pane",
        PanLeft = "pan_left": "pan left",
        PanRight = "pan_right": "pan right",
        PanUp = "pan_up": "pan up",
        PanDown = "pan_down": "pan down",
        ToggleCursor = "toggle_cursor": "pixel cursor on/off (value and classes under it)",
        NextSlice = "next_slice": "next slice of a multi-frame image or volume",
        PrevSlice = "prev_slice": "previous slice of a multi-frame image or volume",
        WindowPreset = "window_preset": "window/level preset: file, auto, full, min-max, narrow; lung, mediastinum, bone, brain on CT",
        WindowNarrower = "window_narrower": "window narrower (more contrast)",
        WindowWider = "window_wider": "window wider (less contrast)",
        LevelDown = "level_down": "level down (brighter)",
        LevelUp = "level_up": "level up (darker)",
    }
    "Find" {
        Filter = "filter": "filter cases by an expression (docs/keys.md)",
        Tag = "tag": "tag the case: words add, -word removes (filter with tag:NAME)",
        Sort = "sort": "choose the sort key",
        Command = "command": "command line (:goto N, :run NAME, :theme NAME, ...)",
        ClearFilter = "clear_filter": "clear the filter",
    }
    "General" {
        Help = "help": "this help",
        Cancel = "cancel": "close an overlay or prompt",
        Quit = "quit": "quit",
    }
}

impl Action {
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL
            .iter()
            .find(|(_, _, n, _)| *n == name)
            .map(|(_, a, _, _)| *a)
    }

    pub fn name(&self) -> &'static str {
        Action::ALL
            .iter()
            .find(|(_, a, _, _)| a == self)
            .map(|(_, _, n, _)| *n)
            .unwrap_or("?")
    }

    pub fn class_toggle(&self) -> Option<usize> {
        use Action::*;
        Some(match self {
            ToggleClass1 => 0,
            ToggleClass2 => 1,
            ToggleClass3 => 2,
            ToggleClass4 => 3,
            ToggleClass5 => 4,
            ToggleClass6 => 5,
            ToggleClass7 => 6,
            ToggleClass8 => 7,
            ToggleClass9 => 8,
            _ => return None,
        })
    }
}

/// What a reviewer does in review mode (`lightbox review`): the keymap's `[review]` layer binds
/// keys to these, over the dashboard's keys (a key of the layer shadows the same key's
/// [`Action`] while reviewing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewAction {
    Accept,
    Reject,
    Unsure,
    Flag,
    Note,
    Undo,
    Sign,
}

impl ReviewAction {
    /// Every review action with its keymap name and description, in help order.
    pub const ALL: &'static [(ReviewAction, &'static str, &'static str)] = &[
        (
            ReviewAction::Accept,
            "accept",
            "accept, and go to the next required case (on a chosen flag: the flag is a real error)",
        ),
        (
            ReviewAction::Reject,
            "reject",
            "reject, then 1–9 for the reason the status bar lists, esc cancels (on a chosen flag: a false alarm)",
        ),
        (
            ReviewAction::Unsure,
            "unsure",
            "unsure, and go to the next required case",
        ),
        (
            ReviewAction::Flag,
            "flag",
            "choose the case's next flag: the next verdict is on that flag alone (esc: the whole case)",
        ),
        (
            ReviewAction::Note,
            "note",
            "write a note on the case (kept in the record and the report)",
        ),
        (
            ReviewAction::Undo,
            "undo",
            "undo the last verdict, and go back to its case",
        ),
        (
            ReviewAction::Sign,
            "sign",
            "sign the review: type approve or reject (with required cases open, add why)",
        ),
    ];

    pub fn from_name(name: &str) -> Option<ReviewAction> {
        ReviewAction::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(a, _, _)| *a)
    }

    pub fn name(&self) -> &'static str {
        ReviewAction::ALL
            .iter()
            .find(|(a, _, _)| a == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("?")
    }
}
