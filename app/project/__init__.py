"""The project as every part of ai must see it alike: which of its files are secrets (``secrets``)."""
