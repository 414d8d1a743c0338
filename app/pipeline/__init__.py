"""What the pipelines (build and fix) share: the one guarded reader of every file sent to the model
(``reader``)."""
