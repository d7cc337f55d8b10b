//! The link as Sink (ccbikai/Sink) keeps it: the JSON under its KV key `link:<slug>` and each
//! element of its export file's `links`, in camelCase with times in Unix seconds.
