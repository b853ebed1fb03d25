"""SMS: the gateway interface, a logging implementation, and the texts of the 督办单 SMS.

Users and parties have no phone number yet, so a message is addressed to the recipient party
("enterprise:3", "unit:1"); a real gateway, or a phone field when it exists, turns that into
numbers. The in-app inbox needs nothing here: its rows are written in the event's transaction.
"""

import logging
from typing import Any, Protocol

logger = logging.getLogger(__name__)

NOTICE_TEXT = "【闭环】督办单{number}：隐患{code}已超过整改期限，请登录系统签收并立即组织整改。"


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LoggingSmsGateway:
    """Writes each SMS to the log instead of sending it (no gateway is contracted yet)."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone, text)


def notice_sms(hazard_code: str, event_data: dict[str, Any]) -> list[tuple[str, str]]:
    """(address, text) for each 督办单 of a `supervision_notice` event."""
    return [(f"{n['recipient_type']}:{n['recipient_id']}",
             NOTICE_TEXT.format(number=n["number"], code=hazard_code))
            for n in event_data.get("notices", [])]
