"""The pure core: plans, gates, smoke checks and the ledger model. No AWS, no printing, no clock of its own."""
