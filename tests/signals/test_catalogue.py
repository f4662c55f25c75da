"""The catalogue holds the required indicators with the meanings the data contract gives them."""

import pytest

from signals import CATALOGUE, WARD_INDICATORS, CatalogueError

REQUIRED = {
    # key: (direction, domain, family)
    "restraint": ("up", "restrictive_practice", "count"),
    "prone_restraint": ("up", "restrictive_practice", "count"),
    "seclusion": ("up", "restrictive_practice", "count"),
    "long_term_segregation": ("up", "restrictive_practice", "count"),
    "rapid_tranquillisation": ("up", "restrictive_practice", "count"),
    "seclusion_hours": ("up", "restrictive_practice", "measure"),
    "injuries": ("up", "harm_and_reporting", "count"),
    "sexual_safety_incidents": ("both", "harm_and_reporting", "count"),
    "incidents_reported": ("both", "harm_and_reporting", "count"),
    "safeguarding_referrals": ("both", "harm_and_reporting", "count"),
    "complaints": ("down", "voice_and_oversight", "count"),
    "ftsu_concerns": ("both", "voice_and_oversight", "count"),
    "family_visits": ("down", "voice_and_oversight", "count"),
    "advocacy_visits": ("down", "voice_and_oversight", "count"),
    "cetr_overdue": ("up", "voice_and_oversight", "proportion"),
    "staff_turnover": ("up", "staffing", "proportion"),
    "agency_use": ("up", "staffing", "proportion"),
    "bank_use": ("up", "staffing", "proportion"),
    "vacancy_rate": ("up", "staffing", "proportion"),
    "sickness_absence": ("up", "staffing", "proportion"),
    "supervision_compliance": ("down", "staffing", "proportion"),
    "training_compliance": ("down", "staffing", "proportion"),
    "manager_changes": ("up", "staffing", "count"),
}


@pytest.mark.parametrize("key", sorted(REQUIRED))
def test_required_indicator_meaning(key):
    ind = CATALOGUE[key]
    assert (ind.direction, ind.domain, ind.family) == REQUIRED[key]
    assert ind.label and ind.description and ind.why and ind.questions
    assert ind.exposure == (key != "manager_changes")


def test_ward_indicators_are_the_required_set():
    assert set(WARD_INDICATORS) == set(REQUIRED)


def test_fractional_numerators():
    assert {k for k in CATALOGUE if CATALOGUE[k].fractional} == {
        "seclusion_hours",
        "vacancy_rate",
        "sickness_absence",
    }


def test_display_units():
    assert CATALOGUE["restraint"].format_rate(0.0058) == "5.8 per 1,000 occupied bed days"
    assert CATALOGUE["agency_use"].format_rate(0.125) == "12.5%"
    assert CATALOGUE["complaints"].improvement_direction == "increase"
    assert CATALOGUE["restraint"].improvement_direction == "decrease"
    assert CATALOGUE["incidents_reported"].improvement_direction == "neutral"


def test_nearest_key_suggestion():
    assert CATALOGUE.nearest("restrain") == "restraint"
    assert CATALOGUE.nearest("complaint") == "complaints"
    assert CATALOGUE.nearest("zzzzzz") is None


def test_trust_adds_indicator_by_configuration():
    cat = CATALOGUE.extended(
        {
            "police_attendances": {
                "label": "Police attendances",
                "description": "Police called to the ward.",
                "domain": "harm_and_reporting",
                "family": "count",
                "exposure": True,
                "numerator": "police attendances",
                "denominator": "occupied bed days",
                "direction": "up",
            }
        }
    )
    assert cat["police_attendances"].scale == 1000
    assert len(cat) == len(CATALOGUE) + 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"label": "x"}, "missing field"),
        (
            {
                "label": "x",
                "description": "d",
                "domain": "nowhere",
                "family": "count",
                "numerator": "n",
                "direction": "up",
            },
            "domain must be one of",
        ),
        (
            {
                "label": "x",
                "description": "d",
                "domain": "staffing",
                "family": "count",
                "numerator": "n",
                "direction": "up",
                "colour": "red",
            },
            "unknown field",
        ),
        (
            {
                "label": "x",
                "description": "d",
                "domain": "staffing",
                "family": "proportion",
                "numerator": "n",
                "direction": "up",
                "exposure": False,
            },
            "needs a denominator",
        ),
    ],
)
def test_bad_custom_indicator_is_refused_with_a_clear_message(spec, message):
    with pytest.raises(CatalogueError, match=message):
        CATALOGUE.extended({"my_indicator": spec})


def test_published_national_rates_for_the_cold_start():
    restraint = CATALOGUE["restraint"]
    assert restraint.typical_rate_for("picu") == pytest.approx(13.4 / 1000)
    assert restraint.typical_rate_for("forensic") != restraint.typical_rate_for("forensic")  # no source: NaN
    assert CATALOGUE["people_restrained"].typical_rate_for("other") == pytest.approx(4.9 / 1000)
    spec = {
        "label": "Rapid tranquillisation (own)",
        "description": "Injections.",
        "domain": "restrictive_practice",
        "family": "count",
        "exposure": True,
        "numerator": "injections",
        "denominator": "occupied bed days",
        "direction": "up",
        "typical_rate": {"*": 1.0, "picu": 4.0},
        "typical_rate_cv": 0.8,
    }
    own = CATALOGUE.extended({"rt_own": spec})["rt_own"]
    assert own.typical_rate_for("picu") == pytest.approx(0.004)
    assert own.typical_rate_for("rehab") == pytest.approx(0.001)
    assert own.typical_rate_cv == 0.8
    with pytest.raises(CatalogueError, match="typical_rate: unknown ward type 'ward9'"):
        CATALOGUE.extended({"rt_own": {**spec, "typical_rate": {"ward9": 1.0}}})
    with pytest.raises(CatalogueError, match="must be a positive number"):
        CATALOGUE.extended({"rt_own": {**spec, "typical_rate": {"picu": -1}}})
    with pytest.raises(CatalogueError, match="typical_rate_cv must be positive"):
        CATALOGUE.extended({"rt_own": {**spec, "typical_rate_cv": 0}})
