"""Explanations read as the house style: numbers, units, UK dates."""

import datetime as dt

from engine.explain import IndicatorEvidence, describe, provider_explanation, uk_date, ward_explanation


def test_rise_sentence_matches_house_style():
    ev = IndicatorEvidence(
        "restraint",
        "shift",
        "up",
        7,
        "weekly",
        observed_rate=0.0091,
        expected_rate=0.0058,
        onset=dt.date(2025, 3, 3),
    )
    assert describe(ev) == (
        "Physical restraint has averaged 9.1 per 1,000 occupied bed days for 7 weeks against a usual 5.8; "
        "the rise probably began around 3 March 2025."
    )


def test_silence_and_proportion_sentences():
    ev = IndicatorEvidence("complaints", "silence", "down", 11, "weekly", expected_count=3.2)
    assert describe(ev) == "Complaints and concerns: none for 11 weeks, where about 3 would be usual."
    ev = IndicatorEvidence("agency_use", "shift", "up", 3, "weekly", observed_rate=0.31, expected_rate=0.12)
    assert describe(ev) == "Agency staff has averaged 31.0% for 3 weeks against a usual 12.0%."
    ev = IndicatorEvidence(
        "supervision_compliance", "shift", "down", 1, "monthly", observed_rate=0.5, expected_rate=0.9
    )
    assert "for 1 month against a usual 90.0%" in describe(ev)


def test_ward_explanation_headline_and_order():
    evs = [
        IndicatorEvidence("complaints", "silence", "down", 11, "weekly", expected_count=0.4),
        IndicatorEvidence("family_visits", "data_silence", "down", 4, "weekly"),
    ]
    text = ward_explanation(
        "concern", ["restrictive_practice", "voice_and_oversight"], dt.date(2025, 1, 6), evs
    )
    assert text.startswith("Concern: the ward shows evidence in restrictive practice and voice and oversight")
    assert "6 January 2025" in text
    assert "where fewer than 1 would be usual" in text
    assert text.endswith("Family and carer visits: no usable data for 4 weeks.")


def test_provider_explanation_and_dates():
    assert uk_date(dt.date(2024, 12, 25)) == "25 December 2024"
    text = provider_explanation("North Trust", "incidents_reported", "down", 9, dt.date(2024, 4, 1))
    assert "Incidents reported have fallen on most wards of North Trust" in text
    assert "1 April 2024" in text


def test_verb_agrees_with_plural_labels():
    ev = IndicatorEvidence(
        "family_visits", "shift", "down", 6, "weekly", observed_rate=0.0139, expected_rate=0.0652
    )
    assert describe(ev).startswith("Family and carer visits have averaged 13.9 per 1,000 occupied bed days")
    ev = IndicatorEvidence("injuries", "shift", "up", 6, "weekly", observed_rate=0.02, expected_rate=0.01)
    assert describe(ev).startswith("Patient injuries have averaged")
    ev = IndicatorEvidence(
        "sickness_absence", "shift", "up", 2, "monthly", observed_rate=0.08, expected_rate=0.05
    )
    assert describe(ev).startswith("Sickness absence has averaged")
