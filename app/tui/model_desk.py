"""The workspace's model: the picker (palette "Pick model", ``/model``), ``/model NAME``, the choice remembered
per project, and what the model calls used: the status line's tokens and cost, and ``/tokens``.

``ModelDesk`` is a collaborator of the main screen, reaching it through app/tui/host.py's ``ModelHost``. A
switch changes the configuration the next builds and fixes of this workspace are made with (a running build
keeps its model) and is written beside the project's sessions (app/config.py ``remember_model``), so the next
``ai`` in the project starts with it unless ``--model`` or ``AI_AGENT_MODEL`` says otherwise.

``/model NAME`` switches at once, even to a name the endpoint does not list: many endpoints list only part of
what they serve (aliases of a proxy, a model being pulled, an endpoint without a list at all), and the endpoint
itself is the judge at the next build (its refusal is one clear line then). The list is checked after the
switch, off the UI thread, and a name not on it gets one warning line.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from app.errors import AgentError
from app.tui import texts

if TYPE_CHECKING:
    from app.config import Config
    from app.events import ContextReady, Event
    from app.llm.usage import TokenUsage
    from app.tui.host import ModelHost

# How many of the endpoint's names a "not on the list" warning quotes.
QUOTED_NAMES = 5


def usage_line(usage: TokenUsage, turn: TokenUsage, config: Config) -> str:
    """The status line's tokens: the session's, this turn's once there is one, the session's cost if priced."""
    from app.llm.usage import format_cost, usage_cost
    from widgets.status_line import format_tokens

    line = texts.USAGE_SESSION.format(tokens=format_tokens(usage.total))
    if turn.total:
        line += texts.USAGE_TURN.format(tokens=format_tokens(turn.total))
    cost = usage_cost(usage, config)
    if cost is not None:
        line += texts.USAGE_COST.format(cost=format_cost(cost))
    return line


def tokens_note(
    session: str, usage: TokenUsage, turn: TokenUsage, config: Config, context: ContextReady | None = None
) -> str:
    """``/tokens``: the session's prompt and completion tokens, the last turn's, their cost or how to get one,
    and the last request's size against the budget and the model's context window (``context``, when a goal
    of this run sent one)."""
    from app.llm.usage import format_cost, has_prices, usage_cost

    def cost_of(used: TokenUsage) -> str:
        cost = usage_cost(used, config)
        return texts.TOKENS_COST.format(cost=format_cost(cost)) if cost is not None else ""

    last = (
        texts.TOKENS_TURN.format(
            prompt=turn.prompt, completion=turn.completion, total=turn.total, cost=cost_of(turn)
        )
        if turn.total
        else texts.TOKENS_NO_TURN
    )
    prices = (
        texts.TOKENS_PRICES.format(
            price_in=config.price_per_mtok_in or 0.0, price_out=config.price_per_mtok_out or 0.0
        )
        if has_prices(config)
        else texts.TOKENS_NO_PRICES
    )
    return texts.TOKENS_NOTE.format(
        session=session,
        prompt=usage.prompt,
        completion=usage.completion,
        total=usage.total,
        session_cost=cost_of(usage),
        turn=last,
        context="" if context is None else context_line(context, config),
        prices=prices,
    )


def context_line(context: ContextReady, config: Config) -> str:
    """The last request against the ``context_tokens`` budget and the model's window (the context panel's fill)."""
    sent = context.tokens + context.system_tokens
    line = texts.TOKENS_CONTEXT.format(tokens=sent, budget=config.context_tokens)
    if context.window:
        window = texts.TOKENS_WINDOW.format(window=context.window, percent=round(100 * sent / context.window))
    else:
        window = texts.TOKENS_NO_WINDOW
    return line + window + "\n"


class ModelDesk:
    def __init__(self, host: ModelHost) -> None:
        self.host = host
        # The last planning request of this run (its ContextReady), for /tokens.
        self.last_context: ContextReady | None = None

    def after_event(self, event: Event) -> None:
        from app.events import ContextReady

        if isinstance(event, ContextReady):
            self.last_context = event

    @property
    def current(self) -> str:
        """The model the next build asks for (the client's default when none is configured)."""
        from app.llm.client import DEFAULT_MODEL

        return self.host.settings.config.model or DEFAULT_MODEL

    def refresh_usage(self) -> None:
        host = self.host
        host.usage_text = usage_line(host.usage, host.turn_usage, host.settings.config)

    # -- picking and switching -----------------------------------------------------------------------------

    def open_picker(self) -> None:
        from app.llm.client import list_models
        from app.tui.model_picker import ModelPicker

        config = self.host.settings.config

        def picked(name: str | None) -> None:
            if name:
                self.switch(name, check_list=False)  # picked from the list, or typed where there is none

        self.host.app.push_screen(ModelPicker(self.current, lambda: list_models(config)), picked)

    async def cmd_model(self, argument: str) -> None:
        """``/model``: the picker; ``/model NAME``: switch at once (the list checked afterwards)."""
        if argument:
            self.switch(argument, check_list=True)
        else:
            self.open_picker()

    def switch(self, name: str, check_list: bool) -> None:
        host = self.host
        settings = host.settings
        name = name.strip()
        if name == self.current and settings.config.model:
            host.events.add(texts.MODEL_UNCHANGED.format(name=name))
            return
        overridden_by = texts.MODEL_SOURCES.get(settings.config.sources.get("model", ""))
        settings.config = replace(settings.config, model=name)
        if host.workspace is not None:
            host.workspace.config = replace(host.workspace.config, model=name)
        host.model_name = name
        if overridden_by:
            host.events.add(texts.MODEL_SWITCHED_OVERRIDDEN.format(name=name, source=overridden_by), "ok")
        else:
            host.events.add(texts.MODEL_SWITCHED.format(name=name), "ok")
        config = settings.config

        def remember_and_check() -> None:
            from app.config import remember_model
            from app.llm.client import list_models

            try:
                remember_model(settings.root, name)
            except AgentError as exc:
                host.ui(
                    host.events.add, texts.MODEL_NOT_REMEMBERED.format(name=name, error=exc.message), "error"
                )
            if not check_list:
                return
            try:
                listed = list_models(config)
            except AgentError:
                return  # no list to check against: the next build is the endpoint's answer
            if name not in listed:
                quoted = ", ".join(listed[:QUOTED_NAMES]) + (", …" if len(listed) > QUOTED_NAMES else "")
                host.ui(host.events.add, texts.MODEL_NOT_LISTED.format(name=name, listed=quoted), "warning")

        host.start_worker(
            remember_and_check, group="model-choice", description="remember the model", thread=True
        )

    # -- /tokens ---------------------------------------------------------------------------------------------

    async def cmd_tokens(self, argument: str) -> None:
        """``/tokens``: a conversation note; the last turn from the stored replies when this run had none."""
        import asyncio

        host = self.host
        session, turn = host.session_name, host.turn_usage
        if not turn.total:
            turn = await asyncio.to_thread(self._stored_last_turn, session)
        note = tokens_note(session, host.usage, turn, host.settings.config, self.last_context)
        await host.chat.add_note(note)

    def _stored_last_turn(self, session: str) -> TokenUsage:
        from app.llm.usage import TokenUsage, last_turn_usage

        try:
            return last_turn_usage(self.host.settings.store.session(session, create=False).messages())
        except AgentError:  # not stored yet (nothing was sent), or gone meanwhile
            return TokenUsage()
