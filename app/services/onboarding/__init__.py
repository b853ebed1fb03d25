"""初始化导入: a county's regions, units, enterprises and users from spreadsheets: the sheet
specification (`spec`), file reading (`files`), checking (`check`) and the import (`imports`)."""
