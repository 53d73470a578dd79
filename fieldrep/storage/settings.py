"""Territory settings declared once, with type, default and translatable title.

Every number the seeds leave open (a GAP in DOMAIN.md) is a setting here with
the suggested default, never a constant in code: the C-class cadence, the 532
cut-offs, the 5C scale, warning lines and the dealer-fit threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from fieldrep.i18n import N_

T = TypeVar("T", int, Decimal, str)


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    kind: type[T]
    default: T
    title: str  # English, marked for translation
    minimum: T | None = None
    maximum: T | None = None

    def parse(self, text: str) -> T:
        value = self.kind(text.strip())
        if self.minimum is not None and value < self.minimum:
            raise ValueError(text)
        if self.maximum is not None and value > self.maximum:
            raise ValueError(text)
        return value


VISITS_PER_MONTH_A = Setting(
    "cadence.a_visits_per_month", int, 2, N_("Class A visits per month"), 0, 31
)
VISITS_PER_MONTH_B = Setting(
    "cadence.b_visits_per_month", int, 1, N_("Class B visits per month"), 0, 31
)
# The seed breaks off before giving the C-class rule: one visit every two months.
C_INTERVAL_DAYS = Setting(
    "cadence.c_interval_days", int, 60, N_("Days between class C visits"), 1, 366
)
PERFORMANCE_5_SHARE = Setting(
    "class532.top_share_pct", int, 50, N_("532 method: share of volume of the top tier (%)"), 1, 99
)
PERFORMANCE_3_SHARE = Setting(
    "class532.middle_share_pct",
    int,
    30,
    N_("532 method: share of volume of the middle tier (%)"),
    1,
    99,
)
CREDIT_SCALE_MAX = Setting("credit.scale_max", int, 5, N_("5C score scale maximum"), 3, 10)
CREDIT_HIGH_RISK_BELOW = Setting(
    "credit.high_risk_below",
    Decimal,
    Decimal("2.5"),
    N_("5C average below which credit is high risk"),
)
WARNING_LINE_PCT = Setting(
    "kpi.warning_line_pct",
    int,
    80,
    N_("Warning line: share of target below which a KPI is red (%)"),
    1,
    100,
)
FIT_THRESHOLD_PCT = Setting(
    "dealer.fit_threshold_pct", int, 60, N_("Dealer fit threshold (%)"), 1, 100
)
STALE_PROFILE_DAYS = Setting(
    "dealer.stale_profile_days", int, 180, N_("Days after which a dealer profile is stale"), 1, 3650
)
VERIFY_PERIOD_DAYS = Setting(
    "follow_up.verify_days", int, 14, N_("Verification period for fixes (days)"), 1, 365
)

ALL_SETTINGS: tuple[Setting[int] | Setting[Decimal] | Setting[str], ...] = (
    VISITS_PER_MONTH_A,
    VISITS_PER_MONTH_B,
    C_INTERVAL_DAYS,
    PERFORMANCE_5_SHARE,
    PERFORMANCE_3_SHARE,
    CREDIT_SCALE_MAX,
    CREDIT_HIGH_RISK_BELOW,
    WARNING_LINE_PCT,
    FIT_THRESHOLD_PCT,
    STALE_PROFILE_DAYS,
    VERIFY_PERIOD_DAYS,
)
SETTINGS_BY_KEY = {setting.key: setting for setting in ALL_SETTINGS}
