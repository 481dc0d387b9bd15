"""Helpers shared by the platforms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate

from homeassistant.exceptions import HomeAssistantError

from .client import (
    DaybreakAuthenticationError,
    DaybreakCommandError,
    DaybreakConnectionError,
    DaybreakError,
    DaybreakTimeoutError,
)
from .const import DOMAIN
from .entity import DaybreakEntity


def daybreak_exception_handler[DaybreakEntityT: DaybreakEntity, **P, R](
    func: Callable[Concatenate[DaybreakEntityT, P], Awaitable[R]],
) -> Callable[Concatenate[DaybreakEntityT, P], Coroutine[Any, Any, R]]:
    """Turn client errors into translated ``HomeAssistantError``s.

    Availability is left alone: it follows the connection (the client notices a device
    that stops answering), not one command that went unanswered.
    """

    # ``self`` positional-only: a method taking ``**kwargs`` could otherwise get a
    # keyword named "self" as well (mypy rejects the ParamSpec match without it).
    async def handler(self: DaybreakEntityT, /, *args: P.args, **kwargs: P.kwargs) -> R:
        name = {"name": self.coordinator.config_entry.title}
        try:
            return await func(self, *args, **kwargs)
        except DaybreakTimeoutError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="timeout",
                translation_placeholders=name,
            ) from err
        except DaybreakConnectionError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders=name,
            ) from err
        except DaybreakAuthenticationError as err:
            self.coordinator.config_entry.async_start_reauth(self.hass)
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except DaybreakCommandError as err:
            if err.code == "no_alarm":  # snooze or dismiss with no alarm in progress
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="no_alarm",
                    translation_placeholders=name,
                ) from err
            if err.code == "storage_error":  # carried out, but the device cannot save it
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="not_saved",
                    translation_placeholders={**name, "message": err.message},
                ) from err
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_refused",
                translation_placeholders={"code": err.code, "message": err.message},
            ) from err
        except DaybreakError as err:  # an invalid answer (logged by the client)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="invalid_answer",
                translation_placeholders=name,
            ) from err

    return handler
