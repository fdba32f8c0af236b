"""Sources (数据源): reading HIS exports (CSV/Excel/JSON/databases) and profiling their columns."""
