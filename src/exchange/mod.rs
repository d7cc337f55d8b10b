//! Moving links in and out of edgelink: the portable record of edgelink's own export
//! ([`edgelink`], CSV and NDJSON), the link shape Sink keeps in KV and in its export file
//! ([`sink`]), and the other shorteners' files an import reads. Pure: parsing and mapping only,
//! no `worker`, no clock; the jobs that read and write stores live above.

pub mod edgelink;
pub mod sink;
