"""The hazard and its closed loop: report (`report`), the loop's actions
(`actions`), lists and filters (`queries`), the timeline (`timeline`), photos and their
authenticity, routing (双重交办), the ledger export, the major-hazard dossier, home queues."""
