//! lightbox: review what an image model predicts before it ships.
//!
//! The library holds the domain core (packs, formats, geometry, ...) and knows nothing about
//! the terminal; the `lightbox` binary is a thin command-line layer over it.

pub mod case_list;
pub mod check;
pub mod color;
pub mod compare;
pub mod config;
pub mod export;
pub mod formats;
pub mod fsutil;
pub mod geometry;
pub mod infer;
pub mod job;
pub mod metrics;
pub mod ood;
pub mod pack;
pub mod query;
pub mod render;
pub mod review;
pub mod rules;
pub mod sample;
pub mod tui;
pub mod uncertainty;
pub mod watch;
pub mod workspace;
