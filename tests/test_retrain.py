"""Teach it a new site: pre-label, correct, retrain with base data, and fix the model's errors.

The new site is a Swedish newsletter platform (a language our data does not cover) whose
footer the shipped model keeps. 20 documents train, 20 are held out.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

import boilerclf
from boilerclf.cli import app
from boilerclf.data import base_data_path, read_documents
from boilerclf.evaluate import predict_documents, score
from boilerclf.labels import prelabel
from boilerclf.rules import load_rules

SENTENCES = [
    "Kommunen har beslutat att bygga en ny gång- och cykelbro över ån till nästa sommar.",
    "Beslutet kom efter flera års diskussioner om trafiksäkerheten vid den gamla bron.",
    "Många föräldrar har länge oroat sig för barnen som cyklar till skolan längs landsvägen.",
    "Enligt kommunens beräkningar kommer bygget att kosta omkring fyrtio miljoner kronor.",
    "Oppositionen menar att pengarna hellre borde gå till äldreomsorgen.",
    "I helgen samlades ett hundratal personer på torget för att fira stadens födelsedag.",
    "Det regnade under förmiddagen, men framåt eftermiddagen tittade solen fram.",
    "Arrangörerna hade bjudit in lokala musiker och en kör från grannkommunen.",
    "Skördarna i länet blev bättre än väntat trots den torra försommaren.",
    "Lantbrukarna berättar att vetet klarade värmen förvånansvärt bra.",
    "Priset på potatis väntas ändå stiga under vintern på grund av höga energikostnader.",
    "Biblioteket förlänger sina öppettider på kvällarna från och med oktober.",
    "Bibliotekarien säger att många studenter har efterfrågat en lugn plats att läsa på.",
    "Den nya busslinjen mellan centrum och sjukhuset har fått ett blandat mottagande.",
    "Resenärerna uppskattar de täta avgångarna, men klagar på att hållplatserna saknar tak.",
    "Regionen lovar att se över hållplatserna innan vintern kommer.",
    "Fiskeklubben har satt ut tusentals öringar i sjön under hösten.",
    "Förhoppningen är att bestånden ska återhämta sig efter flera svaga år.",
    "Ishockeylaget vann sin första match för säsongen efter en dramatisk förlängning.",
    "Tränaren var nöjd med försvarsspelet men vill se mer fart i anfallen.",
    "Den gamla järnvägsstationen ska byggas om till ett kulturhus med ateljéer och kafé.",
    "Ombyggnaden beräknas vara klar om två år om allt går enligt planerna.",
    "Forskare vid universitetet har undersökt hur fåglarnas flyttmönster har förändrats.",
    "Resultaten visar att flera arter stannar allt längre i norr under hösten.",
]
HEADLINES = [
    "Ny cykelbro ska byggas över ån", "Staden firade sin födelsedag på torget", "Bättre skörd än väntat i länet",
    "Biblioteket öppnar längre på kvällarna", "Blandat mottagande för ny busslinje", "Öring satt ut i sjön",
    "Seger i förlängningen för hemmalaget", "Stationen blir kulturhus", "Flyttfåglarna stannar längre",
]
FOOTER = [
    ("Tack för att du läser {name}! Prenumerera gratis för att få nya inlägg och stödja mitt arbete.", "appeal"),
    ("Uppgradera till betald prenumeration", "appeal"),
    ("Bli betalande prenumerant för 49 kr i månaden och få tillgång till hela arkivet.", "appeal"),
    ("Gilla", "debris"),
    ("Kommentera", "debris"),
    ("Dela", "debris"),
    ("Läs i appen", "debris"),
    ("Du får det här mejlet eftersom du prenumererar på {name}.", "debris"),
    ("Avsluta prenumeration", "debris"),
    ("© 2025 {name} · Drottninggatan {number}, Stockholm", "debris"),
    ("Starta ditt eget nyhetsbrev", "debris"),
    ("Skickat med Brevlådan – plattformen för oberoende skribenter", "debris"),
]
NAMES = ["Veckobrevet", "Norrlandsposten Extra", "Ågrens anteckningar", "Kustbladet", "Småstadsbrevet", "Fjällnytt"]


def newsletter(seed: int) -> dict:
    """One document of the new site: an issue of a newsletter, with the platform's footer."""
    rng = random.Random(seed)
    name = rng.choice(NAMES)
    paragraphs = [{"text": rng.choice(HEADLINES), "label": "body"}]
    for _ in range(rng.randint(4, 7)):
        paragraphs.append({"text": " ".join(rng.sample(SENTENCES, 2)), "label": "body"})
    footer = [FOOTER[i] for i in sorted(rng.sample(range(len(FOOTER)), rng.randint(7, len(FOOTER))))]
    for text, label in footer:
        paragraphs.append({"text": text.format(name=name, number=rng.randint(1, 90)), "label": label})
    return {"doc_id": f"brev-{seed}", "lang": "sv", "paragraphs": paragraphs}


def errors(classifier: boilerclf.Classifier, docs: list[dict]) -> set[tuple[str, int]]:
    wrong = set()
    predicted = classifier.predict_documents([[p["text"] for p in d["paragraphs"]] for d in docs])
    for doc, labels in zip(docs, predicted):
        for i, (p, label) in enumerate(zip(doc["paragraphs"], labels)):
            if (p["label"] == "body") != (label == "body"):
                wrong.add((doc["doc_id"], i))
    return wrong


@pytest.fixture(scope="module")
def site() -> tuple[list[dict], list[dict]]:
    docs = [newsletter(seed) for seed in range(40)]
    return docs[:20], docs[20:]


def test_shipped_model_gets_the_new_site_wrong(site, classifier: boilerclf.Classifier) -> None:
    _, held_out = site
    assert len(errors(classifier, held_out)) >= 20


def test_label_correct_train_fixes_errors(site, classifier: boilerclf.Classifier, tmp_path: Path) -> None:
    train_docs, held_out = site
    # Pre-label through the code path of `boilerclf label`, then correct like a person would.
    records = prelabel(classifier, [(d["doc_id"], "\n".join(p["text"] for p in d["paragraphs"])) for d in train_docs])
    for record, gold in zip(records, train_docs):
        assert [p["text"] for p in record["paragraphs"]] == [p["text"] for p in gold["paragraphs"]]
        for paragraph, correct in zip(record["paragraphs"], gold["paragraphs"]):
            paragraph["label"] = correct["label"]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")

    out = tmp_path / "model"
    # Half of our own data keeps the test quick; the user's labels still count a tenth of it.
    result = CliRunner().invoke(
        app, ["train", "--data", str(labels), "--out", str(out), "--holdout", "0", "--base-share", "0.5"]
    )
    assert result.exit_code == 0, result.output
    retrained = boilerclf.Classifier(out)

    before = errors(classifier, held_out)
    after = errors(retrained, held_out)
    fixed = len(before - after)
    assert fixed >= 0.9 * len(before), f"fixed {fixed} of {len(before)} errors"

    test_split = read_documents(base_data_path("test"))
    f1_before = score(test_split, predict_documents(classifier, test_split))["body"]["f1"]
    f1_after = score(test_split, predict_documents(retrained, test_split))["body"]["f1"]
    assert f1_after >= f1_before - 0.01

    assert CliRunner().invoke(app, ["train", "--data", str(labels), "--out", str(out)]).exit_code == 2  # no overwrite


def test_rules_fix_an_error_without_retraining(site, classifier: boilerclf.Classifier, tmp_path: Path) -> None:
    _, held_out = site
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rule]]\nname = "Brevlådan footer"\nregex = "(?i)^(gilla|kommentera|dela|läs i appen|avsluta prenumeration)$"\n'
        'action = "drop"\nlabel = "debris"\n\n'
        '[[rule]]\nname = "Brevlådan upgrade"\nphrase = "betald prenumeration"\naction = "drop"\nlabel = "appeal"\n',
        encoding="utf-8",
    )
    ruled = boilerclf.Classifier(rules=rules)
    fixed_by_rules = errors(classifier, held_out) - errors(ruled, held_out)
    assert fixed_by_rules
    decisions = ruled.annotate("Ny cykelbro ska byggas över ån\nUppgradera till betald prenumeration\n")
    assert decisions[1].label == "appeal" and decisions[1].rule == "Brevlådan upgrade" and not decisions[1].kept


@pytest.mark.parametrize(
    "content, message",
    [
        ('[[rule]]\nname = "x"\naction = "drop"\n', "exactly one of `phrase` and `regex`"),
        ('[[rule]]\nregex = "("\n', "invalid regex"),
        ('[[rule]]\nphrase = "a"\naction = "hide"\n', "action must be drop or keep"),
        ("not = [toml", "invalid TOML"),
    ],
)
def test_bad_rules_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(content)
    with pytest.raises(ValueError, match=message.replace("`", ".").replace("(", r"\(")):
        load_rules(path)
