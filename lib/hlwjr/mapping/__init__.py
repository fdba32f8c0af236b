"""Mapping config (指标对照): from the hospital's HIS tables to the spec's records.

A mapping lives in a directory (``mapping/<hospital>/``, reviewed and versioned like code)::

    mapping.yaml            kind: hlwjr/mapping, version: 1, spec id + version, sources, code maps
    datasets/<code>.yaml    one file per data set: its source (table/query/file, joins, business
                            time column) and one rule per spec field
    codes/<name>.csv        code maps (值域对照) local value → standard code, editable in Excel

Field rule kinds (one per spec field, each with its review status as Usagi keeps it —
``suggested`` / ``accepted`` / ``rejected``, ``reviewer``, ``reviewed_at``, ``comment``):

* ``column: BRXM`` — a source column (strings are trimmed; empty → missing);
* ``column: KFSJ`` + ``format: "%Y%m%d%H%M%S"`` — a date/time reformat to the spec's
  ``YYYY-MM-DD`` / ``YYYY-MM-DD HH:MM:SS``;
* ``column: XB`` + ``code_map: sex`` (+ ``default: "0"``) — a code map; values missing from the map
  take the default, or the row is **rejected** (reported, never dropped silently);
* ``const: "1"`` — a constant; ``concat: [A, B]`` + ``sep`` — a concatenation;
* ``derive: age_from_birth`` + ``args: [CSRQ, KFSJ]`` — a named function from :data:`DERIVED`;
* ``unavailable: "HIS 不记录该项"`` — not available, with the reason;
* ``children: {table: ..., on: {CHILD_COL: PARENT_COL}, fields: {...}}`` — an array field (处方明细)
  built from a detail table joined by key, only for the rows of this data set.

``apply_mapping(mapping, dataset, date=...)`` runs vectorised over DataFrames (no per-row Python for
column rules), chunk by chunk, and returns a :class:`MappingResult`: the records (a DataFrame of
spec field keys) and every issue (rejected rows, defaulted or unparseable values, unmapped local
codes).  Every source row ends as a record or a reported rejection.

Modules: ``_model`` (sources, joins, field and child rules), ``_config`` (the directory:
``Mapping``, ``load_mapping``, checks), ``_codemaps``, ``_context`` (reading the named sources),
``_conversions``, ``_derived``, ``_engine`` (``apply_mapping``), ``_result``, ``_jsonl``,
``_suggest`` (draft rules).
"""
