"""判定标准: the catalogue of major-hazard criteria, its import and search (`catalogue`)."""
