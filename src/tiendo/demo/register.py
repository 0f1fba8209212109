"""The demo's household register: the synthetic households behind seed 000's household figures.

Seed 000 states, for the province, how many households implement and benefit from the two
resolutions, how many borrowed and how much, how many gardens were renovated, their area,
income and jobs. Those figures are no longer typed into the demo (``figures.yaml``): they
are register indicators (``register_indicators:`` of the Hà Giang packages) computed from
the records made here, so a figure and the households behind it are the same data.

About 5.000 households in the communes of the real Hà Giang districts, every one marked
illustrative, with made-up names and well-formed ID numbers (province code 002, century,
sex and birth year agreeing with the head). Built in groups whose sizes are the seed's
(``register.yaml``, the same rows and scopes ``figures.yaml`` had), spread over the
communes by the commune weights of :mod:`tiendo.demo.dataset`, and with amounts, areas,
incomes and jobs split exactly (:func:`~tiendo.demo.dataset.split_total`) so the province's
figures are the seed's to the last digit:

- Resolution 04 (orange communes): 71 households borrowing in 2021, 96 more in 2022 (and
  10 of the first borrowing again — one household, two loans), each with its orange plot
  renovated the year of its loan; the plots of 2022 carry the incomes before and after;
- Resolution 05 (garden communes): 1.032 borrowers in 2021 and 1.242 others in 2022; 947
  and 1.369 households taking part without a policy benefit; 804 gardens renovated in
  2021 and 1.131 in 2022, 13 of them (2,6 ha) of the 2.326 households of the target group
  (poor or near-poor in the 2022 review), all enrolled in 2022;
- some orange borrowers in communes of both programmes also take part in Resolution 05:
  they are one household implementing, not two;
- the rest of the about 5.000 are registered without taking part.

Deterministic: the same records every time (the ciphertexts of ID numbers differ, being
encrypted with a random IV). Loaded once: a register already holding illustrative
households is left as it is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction

from tiendo.demo.dataset import Scopes, split_total
from tiendo.households import events
from tiendo.households.models import (
    Enrolment,
    Household,
    Loan,
    Plot,
    PovertyLevel,
    PovertyStatus,
    RecordChange,
)
from tiendo.programmes.models import Component, Programme

REGISTER = Path(__file__).resolve().parent / "register.yaml"
HOUSEHOLDS = 5000  # about as many in the register, taking part or not
SECOND_LOANS = 10  # orange borrowers of 2021 borrowing again in 2022
TARGET_GARDENS = 13  # gardens of households of the target group

FAMILY = ["Nguyễn", "Hoàng", "Lương", "Vàng", "Giàng", "Lý", "Sùng", "Triệu", "Đặng", "Ma"]
MIDDLE = ["Văn", "Thị", "Seo", "Mí", "Thị Mỷ", "Đức", "Xuân", "Minh"]
GIVEN = ["An", "Bình", "Chính", "Dũng", "Hoa", "Lan", "Mai", "Páo", "Sính", "Tủa", "Chứ", "Dín"]
ETHNICITIES = ["Mông", "Tày", "Dao", "Kinh", "Nùng", "Giáy", "La Chí"]
GARDEN_CROPS = ["Rau, cây ăn quả", "Cây ăn quả có múi", "Rau, gia cầm", "Chè, cây ăn quả"]


@dataclass
class _Household:
    """One household being made, and what it takes part in."""

    row: Household
    commune: object
    year: int = 0  # the year it first took part (0: it does not)
    nq05: bool = False
    target: bool = False  # of Resolution 05's target group


def seed_totals(path: Path = REGISTER) -> dict[tuple[str, str], Decimal]:
    """The seed figures the register must give, by (indicator, period)."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {(r["indicator"], str(r["period"])): Decimal(str(r["total"])) for r in rows}


class _Builder:
    def __init__(self, scopes: Scopes):
        self.scopes = scopes
        self.rng = random.Random("tiendo-demo-register")
        self.ids = iter(random.Random("tiendo-demo-cccd").sample(range(10**6), HOUSEHOLDS + 500))
        self.count: dict[int, int] = {}
        self.households: list[_Household] = []
        self.enrolments: list[Enrolment] = []
        self.loans: list[Loan] = []
        self.plots: list[Plot] = []
        self.poverty: list[PovertyStatus] = []
        self.nq04 = Programme.objects.get(code="HG-NQ04")
        self.nq05 = Programme.objects.get(code="HG-NQ05")
        components = {(c.programme_id, c.code): c for c in Component.objects.all()}
        self.nq04_loans = components.get((self.nq04.pk, "VAY_VON"))
        self.nq05_loans = components.get((self.nq05.pk, "VON"))
        self.nq05_gardens = components.get((self.nq05.pk, "KET_QUA"))

    # -- pieces ------------------------------------------------------------------------

    def communes(self, n: int, scope: str) -> list:
        """``n`` places in the communes of ``scope``, by the demo's commune weights."""
        units = self.scopes.units(scope)
        weights = [self.scopes.weight(u) * self.rng.uniform(0.9, 1.1) for u in units]
        counts = split_total(Decimal(n), weights, 0)
        return [u for u, k in zip(units, counts, strict=True) for _ in range(int(k))]

    def day(self, year: int) -> date:
        return date(year, 1, 15) + timedelta(days=self.rng.randrange(0, 330))

    def household(self, commune) -> _Household:
        rng = self.rng
        number = self.count[commune.pk] = self.count.get(commune.pk, 0) + 1
        sex = "F" if rng.random() < 0.3 else "M"
        birth = rng.randint(1955, 1998)
        middle = "Thị" if sex == "F" else rng.choice([m for m in MIDDLE if "Thị" not in m])
        row = Household(
            unit=commune,
            code=f"HGD-{number:04d}",
            village=f"Thôn {rng.randint(1, 12)}",
            head_name=f"{rng.choice(FAMILY)} {middle} {rng.choice(GIVEN)}",
            head_birth_year=birth,
            head_sex=sex,
            ethnicity=rng.choice(ETHNICITIES),
            illustrative=True,
            note="Hộ minh họa (dữ liệu tổng hợp, không phải người thật).",
        )
        digit = (0 if birth < 2000 else 2) + (1 if sex == "F" else 0)
        row.set_head_id(f"002{digit}{birth % 100:02d}{next(self.ids):06d}")
        made = _Household(row, commune)
        self.households.append(made)
        return made

    def enrol(self, h: _Household, programme, on: date, *, benefiting: bool) -> None:
        self.enrolments.append(
            Enrolment(household=h.row, programme=programme, enrolled_on=on, benefiting=benefiting)
        )
        h.year = h.year or on.year
        h.nq05 = h.nq05 or programme == self.nq05

    def weights(self, n: int) -> list[float]:
        return [self.rng.uniform(0.6, 1.4) for _ in range(n)]

    # -- the groups --------------------------------------------------------------------

    def build(self, seed: dict) -> None:
        def total(code, period):
            return seed[(code, period)]

        # Resolution 04: borrowers, their loans and their orange plots
        first = self.orange_borrowers(2021, total("NQ04_LOAN_HOUSEHOLDS", "2021"), seed)
        second = total("NQ04_LOAN_HOUSEHOLDS", "2022") - total("NQ04_LOAN_HOUSEHOLDS", "2021")
        self.orange_borrowers(2022, second, seed, again=first[:SECOND_LOANS])
        garden_communes = {u.pk for u in self.scopes.units("garden_communes")}
        for h in [h for h in self.households if h.commune.pk in garden_communes][::3]:
            self.enrol(h, self.nq05, self.enrolments_on(h), benefiting=False)  # one, in both
        # Resolution 05: borrowers, then households taking part without a benefit
        for year in (2021, 2022):
            self.garden_borrowers(year, seed)
        implementing = {y: total("HG_HOUSEHOLDS_IMPLEMENTING", str(y)) for y in (2021, 2022)}
        new = {2021: implementing[2021], 2022: implementing[2022] - implementing[2021]}
        for year in (2021, 2022):
            taking_part = sum(1 for h in self.households if h.year == year)
            for commune in self.communes(int(new[year]) - taking_part, "garden_communes"):
                self.enrol(self.household(commune), self.nq05, self.day(year), benefiting=False)
        self.target_group(int(total("NQ05_TARGET_GROUP_HOUSEHOLDS", "2022")))
        self.gardens(seed)
        for commune in self.communes(HOUSEHOLDS - len(self.households), "all_communes"):
            h = self.household(commune)
            if self.rng.random() < 0.2:
                self.poverty.append(PovertyStatus(household=h.row, year=2022, level="poor"))

    def orange_borrowers(self, year: int, n, seed, again=()) -> list[_Household]:
        made = [self.household(c) for c in self.communes(int(n), "orange_communes")]
        for h in made:
            self.enrol(h, self.nq04, self.day(year), benefiting=True)
        borrowers = made + list(again)
        amounts = split_total(seed[("NQ04_DISBURSED", str(year))], self.weights(len(borrowers)), 0)
        for h, amount in zip(borrowers, amounts, strict=True):
            on = self.day(year) if year != h.year else self.enrolments_on(h)
            self.loans.append(self.loan(h, self.nq04, self.nq04_loans, amount, on, 60))
        before = seed.get(("NQ04_LOAN_AREA", str(year - 1)), Decimal(0))
        weights = self.weights(len(made))
        areas = split_total(seed[("NQ04_LOAN_AREA", str(year))] - before, weights, 1)
        jobs_before = seed.get(("NQ04_STABLE_JOBS", str(year - 1)), Decimal(0))
        jobs = split_total(seed[("NQ04_STABLE_JOBS", str(year))] - jobs_before, weights, 0)
        incomes = [
            split_total(seed[(code, str(year))], weights, 1)
            if (code, str(year)) in seed
            else [None] * len(made)
            for code in ("NQ04_GROSS_INCOME_BEFORE", "NQ04_GROSS_INCOME", "NQ04_NET_INCOME")
        ]
        for i, h in enumerate(made):
            self.plots.append(
                Plot(
                    household=h.row,
                    land_unit=h.commune,
                    programme=self.nq04,
                    area_ha=areas[i],
                    crop="Cam Sành",
                    year_renovated=year,
                    income_before=incomes[0][i],
                    income_after=incomes[1][i],
                    net_income_after=incomes[2][i],
                    jobs=int(jobs[i]),
                )
            )
        return made

    def enrolments_on(self, h: _Household) -> date:
        return next(e.enrolled_on for e in reversed(self.enrolments) if e.household is h.row)

    def loan(self, h, programme, component, amount, on, months) -> Loan:
        return Loan(
            household=h.row,
            programme=programme,
            component=component,
            contract_number=f"NHCSXH-{on.year}-{len(self.loans) + 1:05d}",
            amount=amount,
            disbursed_on=on,
            term_months=months,
            purpose="Cải tạo vườn tạp" if programme == self.nq05 else "Nâng cao chất lượng cam",
        )

    def garden_borrowers(self, year: int, seed) -> None:
        n = int(seed[("NQ05_DISBURSED_HOUSEHOLDS", str(year))])
        made = [self.household(c) for c in self.communes(n, "garden_communes")]
        amounts = split_total(seed[("NQ05_DISBURSED", str(year))], self.weights(n), 0)
        for h, amount in zip(made, amounts, strict=True):
            on = self.day(year)
            self.enrol(h, self.nq05, on, benefiting=True)
            self.loans.append(self.loan(h, self.nq05, self.nq05_loans, amount, on, 36))

    def target_group(self, n: int) -> None:
        """The target group: households that first took part in Resolution 05 in 2022,
        poor or near-poor in the 2022 review."""
        joined = [h for h in self.households if h.nq05 and h.year == 2022]
        picked = set(map(id, self.rng.sample(joined, n)))
        for h in joined:
            if id(h) in picked:
                level = PovertyLevel.POOR if self.rng.random() < 0.6 else PovertyLevel.NEAR_POOR
                self.poverty.append(PovertyStatus(household=h.row, year=2022, level=level))
                h.target = True

    def gardens(self, seed) -> None:
        def total(code, period):
            return seed[(code, period)]

        of_2021 = [h for h in self.households if h.nq05 and h.year == 2021]
        first = self.rng.sample(of_2021, int(total("NQ05_GARDENS", "2021")))
        chosen = set(map(id, first))
        few = {u.pk for u in self.scopes.units("garden_communes_few")}
        target = [h for h in self.households if h.target and h.commune.pk in few]
        target = self.rng.sample(target, TARGET_GARDENS)
        later = int(total("NQ05_GARDENS", "2022") - total("NQ05_GARDENS", "2021"))
        rest = [h for h in of_2021 if id(h) not in chosen]
        second = self.rng.sample(rest, later - TARGET_GARDENS)
        target_area = total("NQ05_TARGET_GROUP_AREA", "2022")
        area_2022 = total("NQ05_AREA", "2022") - total("NQ05_AREA", "2021") - target_area
        areas = {
            2021: split_total(total("NQ05_AREA", "2021"), self.weights(len(first)), 2),
            2022: split_total(area_2022, self.weights(len(second)), 2)
            + split_total(target_area, self.weights(TARGET_GARDENS), 2),
        }
        for year, owners in ((2021, first), (2022, second + target)):
            previous = str(year - 1)
            weights = self.weights(len(owners))

            def new(code, decimals, year=year, previous=previous, weights=weights):
                added = total(code, str(year)) - seed.get((code, previous), Decimal(0))
                return split_total(added, weights, decimals)

            incomes, jobs = new("NQ05_GARDEN_INCOME", 0), new("NQ05_STABLE_JOBS", 0)
            for i, h in enumerate(owners):
                self.plots.append(
                    Plot(
                        household=h.row,
                        land_unit=h.commune,
                        programme=self.nq05,
                        component=self.nq05_gardens,
                        area_ha=areas[year][i],
                        crop=self.rng.choice(GARDEN_CROPS),
                        is_garden=True,
                        year_renovated=year,
                        income_before=(incomes[i] * Decimal("0.4")).quantize(Decimal("0.1")),
                        income_after=incomes[i],
                        jobs=int(jobs[i]),
                    )
                )

    # -- writing -------------------------------------------------------------------------

    def save(self) -> set[int]:
        Household.objects.bulk_create([h.row for h in self.households], batch_size=1000)
        # each record takes its household's key, now that it has one, as bulk_create does
        for model, rows in (
            (Enrolment, self.enrolments),
            (Loan, self.loans),
            (Plot, self.plots),
            (PovertyStatus, self.poverty),
        ):
            model.objects.bulk_create(rows, batch_size=1000)
        # the history of every record starts with its registration, as the service's writes
        # do (field "*", nothing before: a record added), by the demo
        kinds = (
            ("household", self.households, lambda h: h.row),
            ("enrolment", self.enrolments, None),
            ("loan", self.loans, None),
            ("plot", self.plots, None),
        )
        changes = []
        for record, items, row_of in kinds:
            for item in items:
                row = row_of(item) if row_of else item
                changes.append(
                    RecordChange(
                        household_id=row.pk if record == "household" else row.household_id,
                        record=record,
                        record_id=row.pk,
                        field="*",
                        new=(row.code if record == "household" else str(row))[:300],
                        version=1,
                        source="demo",
                    )
                )
        RecordChange.objects.bulk_create(changes, batch_size=2000)
        return {h.commune.pk for h in self.households}


def load_demo_register(scopes: Scopes | None = None) -> int:
    """Make the demo's register (once) and compute its figures; the households made."""
    if Household.objects.filter(illustrative=True).exists():
        return 0
    builder = _Builder(scopes or Scopes())
    builder.build(seed_totals())
    with transaction.atomic():
        communes = builder.save()
        events.changed(communes, source="demo")
    return len(builder.households)
