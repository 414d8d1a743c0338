"""The project as every part of ai must see it alike, each fact in one place: which files it has and which its
ignore files leave out (``files``), which are secrets (``secrets``), what language a file is in and what reads
it (``languages``), how a file is replaced without ever being torn (``atomic``) and the guard that keeps paths
inside the project (``guard``), with the one reader every file sent to the model passes (``reader``). The content hash the edit engine and the index share is
``app.text.textfile.content_hash`` (a fact of the bytes, below every layer that reads files)."""
