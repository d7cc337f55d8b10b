//! edgelink's own export format, one record per link, as CSV (RFC 4180, a header row) and as
//! NDJSON; the import reads back exactly what the export writes (docs/import-export.md).
