"""The build and what the fix loop shares with it: the stages in order (``build``: ``run_build``,
``BuildRequest``), locate/read/context (``preread``'s synchronous steps, run off the event loop by
``prepare``), one model turn with its READ rounds (``turn``), stage 7 (``validate``, ``diagnostics``) and the
one apply-and-record step (``apply``). Files named by the goal or asked for with READ are read through the
guarded reader, app/project/reader.py."""
