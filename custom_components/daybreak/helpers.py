"""Helpers shared by the platforms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate

from homeassistant.exceptions import HomeAssistantError

from .client import DaybreakAuthenticationError, DaybreakCommandError, DaybreakConnectionError
from .const import DOMAIN
from .entity import DaybreakEntity


def daybreak_exception_handler[DaybreakEntityT: DaybreakEntity, **P, R](
    func: Callable[Concatenate[DaybreakEntityT, P], Awaitable[R]],
) -> Callable[Concatenate[DaybreakEntityT, P], Coroutine[Any, Any, R]]:
    """Turn client errors into translated ``HomeAssistantError``s.

    A connection error also marks the entities unavailable until the device is back.
    """

    # ``self`` positional-only: a method taking ``**kwargs`` could otherwise get a
    # keyword named "self" as well (mypy rejects the ParamSpec match without it).
    async def handler(self: DaybreakEntityT, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await func(self, *args, **kwargs)
        except DaybreakConnectionError as err:
            self.coordinator.last_update_success = False
            self.coordinator.async_update_listeners()
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        except DaybreakAuthenticationError as err:
            self.coordinator.config_entry.async_start_reauth(self.hass)
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except DaybreakCommandError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_refused",
                translation_placeholders={"code": err.code, "message": err.message},
            ) from err

    return handler
