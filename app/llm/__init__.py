"""The model side: the client, the prompts and the streaming edit-block parser (:mod:`app.llm.blocks`)."""
