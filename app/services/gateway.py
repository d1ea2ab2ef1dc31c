"""The payment-gateway interface for online (student portal) payments. No Flask, no network here.

A gateway charges a card once per idempotency key: ``charge(amount, currency, description,
idempotency_key, card=...)`` returns a :class:`ChargeResult` with the provider's ``reference`` and a
``status`` ("approved" or "declined", with a ``message`` in words when declined).

``PAYMENT_GATEWAY`` selects the provider: ``mock`` (the default; deterministic, no network) or a class
path ``package.module:Class`` whose constructor takes the settings mapping (docs/finance.md, "Payments").
"""
from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping, Protocol, runtime_checkable

APPROVED = "approved"
DECLINED = "declined"


@dataclass(frozen=True)
class Card:
    """What the payment form collected. Never stored: only ``last4`` may reach a note."""

    name: str
    number: str
    expiry_month: int
    expiry_year: int
    cvv: str

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True)
class ChargeResult:
    status: str
    reference: str
    message: str = ""

    @property
    def approved(self) -> bool:
        return self.status == APPROVED


@runtime_checkable
class PaymentGateway(Protocol):
    name: str

    def charge(self, amount: Decimal, currency: str, description: str, idempotency_key: str, *,
               card: Card | None = None) -> ChargeResult:
        ...


class MockGateway:
    """Deterministic, no network: the reference is derived from the idempotency key (the same key gives
    the same reference, as a real provider replays a charge it already made). A card number ending in
    0002 is declined ("insufficient funds"); every other card is approved."""

    name = "mock"
    DECLINE_SUFFIX = "0002"

    def __init__(self, settings: Mapping[str, Any] | None = None):
        self.settings = settings or {}
        self.charges: dict[str, ChargeResult] = {}

    def charge(self, amount: Decimal, currency: str, description: str, idempotency_key: str, *,
               card: Card | None = None) -> ChargeResult:
        if idempotency_key in self.charges:
            return self.charges[idempotency_key]
        digest = hashlib.sha256(f"{idempotency_key}|{amount}|{currency}".encode()).hexdigest()[:10].upper()
        if card is not None and card.number.endswith(self.DECLINE_SUFFIX):
            result = ChargeResult(DECLINED, f"MOCK-DECLINED-{digest}", "The card was declined (insufficient funds).")
        else:
            result = ChargeResult(APPROVED, f"MOCK-{digest}")
        self.charges[idempotency_key] = result
        return result


def gateway_from_settings(settings: Mapping[str, Any]) -> PaymentGateway:
    """The configured gateway. ``mock`` (or empty) is the built-in mock; anything else is
    ``package.module:Class``, constructed with the settings."""
    choice = str(settings.get("PAYMENT_GATEWAY") or "mock").strip()
    if choice == "mock":
        return MockGateway(settings)
    module_name, _, class_name = choice.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"PAYMENT_GATEWAY must be 'mock' or 'package.module:Class', got {choice!r}")
    provider = getattr(importlib.import_module(module_name), class_name)(settings)
    if not isinstance(provider, PaymentGateway):
        raise ValueError(f"{choice} does not implement PaymentGateway.charge")
    return provider
