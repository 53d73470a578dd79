"""The pre-visit preparation checklist: codes kept in ``VisitPlanItem.prep_checklist``.

Shared by the planner, which ticks them (:mod:`fieldrep.storage.screens.planner`),
and the pre-visit brief, which prints them (:mod:`fieldrep.reports.brief`).
"""

from __future__ import annotations

from fieldrep.i18n import N_

# DOMAIN.md §4.1 step 1 (拜访前): research, material and cases, appointment with an
# agenda, professional dress. The appointment has its own column
# (appointment_confirmed); the other steps are codes in prep_checklist.
PREP_STEPS: tuple[tuple[str, str], ...] = (
    (
        "research",
        N_("Researched the dealer: size, products or agency type, industries, success cases"),
    ),
    ("product_material", N_("Product material and industry cases ready")),
    ("agenda_set", N_("Agenda set")),
    ("professional_dress", N_("Dressed professionally")),
)
# DOMAIN.md §5.1 materials checklist: what the planner ticks and the pre-visit brief prints.
PREP_MATERIALS: tuple[tuple[str, str], ...] = (
    ("company_intro", N_("Company introduction (disc or video)")),
    ("clippings", N_("Press clippings")),
    ("certificates", N_("Certificates and qualifications")),
    ("magazines", N_("Magazines")),
    ("brochures", N_("Product brochures")),
    ("dealer_success_cases", N_("Examples of successful dealers")),
    ("recent_partners", N_("Recent partners")),
    ("industry_cases", N_("Industry customer cases")),
    ("proof_documents", N_("Proof documents (data, surveys, customer opinions)")),
)
PREP_CODES = tuple(code for code, _label in PREP_STEPS + PREP_MATERIALS)
