"""动态清零看板 and 亮晒排名: the committee's board of major hazards (`clearance`), the township
ranking (`ranking`) and the kept counts of ended months (`kept_months`)."""
