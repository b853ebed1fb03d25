"""双重督办: the worker's scan (`scans`), 督办单 (`notices`), 延期 (`extensions`),
约谈/通报 and 挂牌督办 (`listing`), 整改评估 (`evaluation`), the escalation ladder (`ladder`)."""
