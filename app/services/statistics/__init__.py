"""季度统计分析: counting per hazard (`quarterly`), filings (`filing`), the report rolled up by
enterprise, unit or region (`report`), its XLSX (`xlsx`)."""
