//! Moving links in and out of edgelink: the portable record of edgelink's own export
//! ([`edgelink`], CSV and NDJSON), the link shape Sink keeps in KV and in its export file
//! ([`sink`]), and the other shorteners' files an import reads. Pure: parsing and mapping only,
//! no `worker`, no clock; the jobs that read and write stores live above.
//!
//! The import: [`row`] (the normalised row every reader makes), [`import`] (format detection,
//! last-row-wins, a row's validation, conflict modes) and one reader a format: [`from_edgelink`], [`from_sink`],
//! [`shlink`], [`generic_csv`].

pub mod edgelink;
pub mod from_edgelink;
pub mod from_sink;
pub mod generic_csv;
pub mod import;
pub mod row;
pub mod shlink;
pub mod sink;
