"""The policy overview: every policy version × the practices of docs/overview-practices.md.

Each cell is the answering engine's answer to one fixed question, asked of one policy version
exactly as ``qa.ask`` would answer it (retrieval in that version, the judge of ``qa.evidence``,
the citation and Yes/No lead of ``qa.compose``), mapped onto the practice's verdicts:

- no sentence the judge accepts speaks to the practice (``PRACTICES[i].words``): ``not stated``;
- otherwise the judged sentence decides: a "No" lead gives the practice's negative verdict, a
  "Yes" lead or none its positive one; and ``hedged`` (a few words, see the table) picks the
  middle verdict of the practices that have one;
- a yes/no practice's negative verdict stands only where the lead's second reader agrees
  (``_Asker.denies``); otherwise that sentence decides nothing and the next one is read;
- the learnt reader (``qa.practice_reader``) then reads each sentence with what the steps above
  found, and its verdict decides (``_Asker.read``).

Cells are cached by policy content (``<data>/overview.json``): an unchanged corpus costs nothing.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from index.config import Config, get_config, quiet_third_parties
from index.dates import date_label
from index.errors import BadQuestion
from index.retrieval import IndexView, PolicyInfo

from .records import Citation

NOT_STATED = "not stated"
# Bump when the way cells are computed changes: every cached cell is then computed again.
OVERVIEW_VERSION = 2
CACHE_FILE = "overview.json"
# The judged sentences a verdict may come from, most probable first: the first that speaks to the
# practice decides (the judge's best sentence is often about the practice's neighbour: "Do Not
# Track is a setting of your browser" before "we do not respond to it").
VERDICT_SENTENCES = 8


@dataclass(frozen=True)
class Practice:
    """One column of the overview (docs/overview-practices.md) and how its verdicts are read.

    ``question`` is asked of each policy version (``{company}``: its company). A judged sentence
    decides the cell only when it writes ``words`` (it speaks to the practice) and not ``other``
    (a sentence on another subject that shares its words). Then:

    - ``yes`` when the sentence states the practice; ``no`` when it denies it (the engine's "No"
      lead, or a denial of the practice's words); where a practice has no ``no``, a denial ("we do
      not collect your SSN", "you may not opt out of service messages") decides nothing;
    - ``middle`` when the sentence writes ``hedge`` (and not ``broader``): the practice's hedged
      or qualified verdict ("only with our service providers", "for 30 days");
    - ``needs_lead``: only the engine's own Yes/No lead decides (a looser reading of a sentence
      about Do Not Track or advertising is too easily the wrong way round);
    - ``denial``: a practice's denial counts only where the negation stands at the practice's
      own verb ("we do not sell", not "we do not control the advertisements you see"; "the
      level of protection may not be identical" denies no transfer), and such a negation is a
      denial whatever the lead ("we do not alter our practices when we receive a DNT signal",
      "we do not (and will never) sell or share").

    A definition ("'Personal information' means ...") never decides; a user's right ("you have the
    right to ...") or duty ("you may not share your password") decides only the practices that
    are rights (``rights``).
    """

    id: str
    name: str
    question: str
    words: str
    yes: str
    no: str | None = None
    middle: str | None = None
    hedge: str | None = None
    broader: str | None = None
    other: str | None = None
    needs_lead: bool = False
    # A denial the Yes/No lead can miss ("we do not alter our practices when ... a DNT signal", whose
    # clause about the signal is not negated; "we ignore DNT signals")
    denial: str | None = None
    grant: str | None = None  # the practice offered in the same sentence as a limit on it: not a denial
    rights: bool = False  # a user's right ("you have the right to ...") speaks to it; else only the company's own practice

    @property
    def verdicts(self) -> tuple[str, ...]:
        """The practice's vocabulary, ``not stated`` last."""
        return tuple(dict.fromkeys(v for v in (self.yes, self.middle, self.no, NOT_STATED) if v))

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "question": self.question, "verdicts": list(self.verdicts)}


_PERIOD = (r"\b(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|eighteen|twenty|thirty|sixty|ninety)"
           r"[\s-]*(?:\(\d+\)\s*)?(?:calendar\s+|business\s+)?(?:hours?|days?|weeks?|months?|years?)\b")
# The company speaking of itself before a negation: "we do not sell", not "third parties do not sell".
_OWN_SUBJECT = r"(?:\bwe\b|\bI\b|\b{company}\b|\bour (?:company|business|site|website|service|services|platform|app)\b)[^.;:]{0,60}?"
# "for marketing purposes": a denial limited to one purpose is a qualified one.
_PURPOSE_LIMIT = r"\bfor (?:\w+ ){0,2}(?:marketing|promotional|advertising|commercial) purposes"
_SERVICE_OR_LAW = (r"\bservice providers?\b|\bvendors?\b|\bcontractors?\b|\bprocessors?\b|\bsub-?processors?\b|"
                   r"\bon (?:our|its) behalf\b|\bperform(?:s|ing)? services\b|\brequired by (?:applicable )?law\b|"
                   r"\bcomply with (?:the |any )?(?:law|legal)|\blegal (?:process|obligations?|requirements?)|\bsubpoena|"
                   r"\bcourt order|\blaw enforcement|\bonly\b|\bexclusively\b|\bexcept\b|\bunless\b|\bother than\b|"
                   r"\bassist us\b|\bhelp us (?:operate|provide|run)|\boperat(?:e|ing) our (?:site|website|service)|"
                   r"\bdoes not include\b|\bhowever\b|\bwhere we can\b|" + _PURPOSE_LIMIT)
# A negation a few words before a verb: "we do not currently alter our practices", "we are not able to respond".
_SEPARATOR = r"[\s,()\"'’“”*_-]+"  # within one clause: no full stop, semicolon, colon
_NOT = r"(?:\bnot|n['’]t|\bnever|\bunable to|\bno longer|\bin no event|\bneither|\bnor|\bcannot)\b"
# Words that start another clause, or another subject: the negation does not reach past them.
_CLAUSE_STOP = r"(?!(?:but|however|although|though|except|whereas|while|unless|instead|we|you|they)\b)"
_NOT_BEFORE = _NOT + r"(?:" + _SEPARATOR + _CLAUSE_STOP + r"\w+){0,5}?" + _SEPARATOR
# Do Not Track is the company's own practice whoever the sentence names: "we do not promise that we
# will be able to ... honor" reaches further.
_NOT_FAR_BEFORE = (_NOT + r"(?:" + _SEPARATOR + r"(?!(?:but|however|although|though|except|whereas|while|unless|instead|"
                   r"and(?=\W+(?:we|our)\b))\b)"
                   r"\w+){0,9}?" + _SEPARATOR)
# The company itself changing hands ("if we are acquired", "in the event we sell our business"): not
# a sale, a sharing or an international transfer of its users' data.
_BUSINESS_TRANSFER = (r"\bmerger|\bacqui|\bbankrupt|\breorgani|\bsuccessor|\bdivestiture|\bbusiness transfer|"
                      r"\b(?:is|are|be|were|being|gets?) (?:sold|transferred|merged)\b|\bsale or transfer of|"
                      r"\bsell(?:s|ing)? (?:any |all |some |part )?(?:or all |or part |or substantially all )?(?:of )?"
                      r"(?:our|its|the|their) (?:business|company|assets|stock|shares)|\bsale of (?:all|substantially|"
                      r"(?:the |our |its )?(?:assets|business|company|stock))|\bassets\b")
# The table: per practice, its question, the words that speak to it and how its verdicts are read.
PRACTICES: tuple[Practice, ...] = (
    Practice("collection", "First-party collection", "What personal information does {company} collect?",
             r"\bcollect|\bgather|\bobtain|\breceiv|\bprovide (?:us|to us)|\byou (?:give|submit|enter|provide)|"
             r"\bwe (?:may )?(?:store|record|log|process)\b", "collects"),
    Practice("sharing", "Sharing with third parties", "Does {company} share personal information with third parties?",
             r"\bshar|\bdisclos|\btransfer|\bprovide|\bmake available|\bsell|\brent\b|\btrade\b|\bgive",
             "shares", "does not share", "shares only with service providers or when required by law", _SERVICE_OR_LAW,
             broader=r"\badvertis|\bmarketing|\bpartners?\b|\baffiliates?\b|\bsponsors?\b|\bsell|\bsold\b|\brent\b",
             other=_BUSINESS_TRANSFER + r"|^(?![\s\S]*\b(?:shar|disclos))[\s\S]*\b(?:countr|outside (?:of )?(?:the )?(?:EU|EEA|Europ))",
             denial=_NOT_BEFORE + r"(?:share|shared|disclose|provide|give|transfer|distribute|pass|make)"),
    Practice("sale", "Sale of data", "Does {company} sell personal information?",
             r"\b(?:sell|sells|sold|selling|rent|rents|rented|renting|lease|leases|trade|trades|traded)\b(?:\W+\w+){0,8}?\W+"
             r"(?:information|data|details|addresses|lists?|it|them|PII)\b|\bsales? of (?:your |user |users' )?"
             r"(?:personal )?(?:information|data)|\bsell(?:ing)? (?:your|personal|user)", "sells or may sell", "does not sell",
             denial=_OWN_SUBJECT + _NOT_BEFORE + r"(?:sell|sold|rent|trade)\b",
             other=_BUSINESS_TRANSFER + r"|\bminors?\b|\bchildren\b|\bunder (?:the age of )?1[3-8]\b|\bdefines?\b|"
                                        r"\baggregat|\banonymi[sz]ed|\bde-identified", needs_lead=True),
    Practice("advertising", "Advertising and tracking", "Does {company} use personal information for advertising?",
             r"\badverti|\bads?\b|\bretarget|\bremarket|\binterest-based|\btargeted", "yes", "no", needs_lead=True,
             denial=_OWN_SUBJECT + _NOT_BEFORE + r"(?:use|show|display|serve|include|allow|permit|run|place|send|target|"
                    r"adverti|ads?\b)|" + _OWN_SUBJECT + _NOT_BEFORE + r"(?:have|carry|contain|feature|accept)\W+"
                    r"(?:\w+\W+){0,2}?(?:ads?\b|adverti)|\bad-free\b|\bno (?:ads|advertising|advertisements)\b|"
                    r"\b(?:free of|without) (?:any )?(?:ads\b|adverti)"),
    Practice("retention", "Retention period", "How long does {company} keep personal information?",
             r"\bas long as\b|\bno longer (?:need|necessary|required|useful)|\bretention (?:period|policy|schedule)|"
             r"\b(?:retain|retained|retains|keep|keeps|kept|store|stores|stored|hold|holds|held|delete|deleted|erase|"
             r"erased|destroy|destroyed|anonymi[sz]e|anonymi[sz]ed)\b(?!\s+(?:track|in mind|you\b|up\b))[^.;]{0,150}?(?:\b(?:until|while|"
             r"necessary|needed|required|reasonabl[ey]|indefinitely|period|after|within|longer)\b|" + _PERIOD + ")",
             "as long as needed", "as long as needed", "a stated period", _PERIOD),
    Practice("deletion", "Deletion", "Can users ask {company} to delete their personal information?",
             r"\bdelet|\berase|\berasure|\bremov|\bclose (?:your|their) account|\bdeactivat|\bcancel", "yes", "no",
             other=r"\bcookies?\b|\bbrowser|\bchild|\bminors?\b|\bunder (?:the age of )?1[3-8]\b",
             denial=_NOT + r"(?!\s+(?:immediately|completely|fully|entirely|necessarily|always|all|required)\b)(?:"
                    + _SEPARATOR + _CLAUSE_STOP + r"\w+){0,4}?" + _SEPARATOR + r"(?:delet|eras|remov|purg|destroy)",
             grant=r"\b(?:you|users?)\s+(?:can|may|are able to|have the right to)\b[^.;]{0,60}\b(?:delet|eras|remov)|"
                   r"\bright to (?:request |ask )?(?:the |us to )?(?:delet|eras)|\brequest (?:the |that we )?(?:delet|eras)",
             rights=True),
    Practice("access", "Access and export", "Can users access or correct their personal information held by {company}?",
             r"(?s)^(?=.*\b(?:you|your|users?|individuals?|customers?|members?|subjects?|residents?|consumers?|"
             r"accountholders?|visitors?|persons?)\b)(?=.*\b(?:access|correct|updat|rectif|copy|export|portab|review|edit|"
             r"amend|modify|see|view|download|obtain)\w*)", "yes",
             other=r"\bunauthori[sz]ed|\bsecur|\bused to access|\baccess (?:times|logs)|\bIP address|\bauthori[sz]ed "
                   r"(?:persons|personnel|employees|staff)|\baccess(?:ed|ible)? (?:only )?by\b|\baccess (?:to )?(?:certain |some |"
                   r"all )?(?:parts|areas|sections|pages|features|content)|\baccess(?:ed|ing)? (?:the|our) (?:site|website|"
                   r"service)s?\b", rights=True),
    Practice("choices", "Opt-out choices", "Can users opt out of {company}'s marketing emails, cookies or advertising?",
             r"\bopt|\bunsubscrib|\bdisabl|\bdecline|\bturn off|\bwithdraw|\bchoice|\bchoose|\bpreferences|\bsettings|"
             r"\breject|\brefuse|\bblock|\bdelete cookies", "yes", rights=True),
    Practice("dnt", "Do Not Track", "Does {company} respond to Do Not Track signals?",
             r"(?s)^(?=.*\b(?:do[\s-]+not[\s-]+track|DNT)\b)(?=.*\b(?:honou?r|respond|recogni[sz]|compl[yi]|support|"
             r"process|abide|obey|accept|act(?:s|ed)?\s+(?:on|upon)|react|alter|modify|change|treat|ignor|disregard))",
             "honours", "does not honour", needs_lead=True,
             denial=_NOT_FAR_BEFORE + r"(?:honou?r|respond|recogni[sz]|compl[yi]|support|process|abide|obey|accept|act|"
                                      r"react|alter|modify|change|treat)|\bignor|\bdisregard"),
    Practice("children", "Children", "Does {company} knowingly collect personal information from children?",
             r"(?s)^(?=.*(?:\bchild|\bminors?\b|\bkids?\b|\bunder (?:the age of )?1[3-8]\b|\bCOPPA\b|\bparental\b|"
             r"\bage of 1[3-8]))(?=.*(?:\bnot\b|n['’]t\b|\bnever\b|\bknowingly|\bintend|\bdirect|\bdesign|\baimed|\bage\b|"
             r"\bconsent|\bpermission|\bolder\b|\bat least\b|\byears old|\bprohibit))",
             "not directed at children", "not directed at children", "collects with parental consent",
             r"\b(?:with|has|have|obtain\w*|given)\s+(?:the\s+)?(?:verifiable\s+|prior\s+|express\s+)?"
             r"(?:parental|parents?[\'’]?s?|guardians?[\'’]?s?)\s+(?:consent|permission|approval)|"
             r"(?<!without )\b(?:with )?(?:the )?(?:verifiable )?(?:consent|permission) (?:of|from) (?:a |the |their |his or "
             r"her )?(?:parent|guardian)|\b(?:parent|guardian)s?(?: or (?:legal )?guardian)? (?:has|have) (?:provided|given) "
             r"(?:\w+ )?(?:consent|permission)"),
    Practice("security", "Security measures", "What security measures does {company} take to protect personal information?",
             r"\bsecur|\bencrypt|\bSSL\b|\bTLS\b|\bHTTPS\b|\bsafeguard|\bfirewall|\bpasswords?\b|\bmeasures\b|"
             r"\bprecautions\b|\bunauthori[sz]ed|\bprotected (?:by|against|from)\b|\bstandards\b", "describes measures",
             other=r"\bprotect(?:ing)? (?:our|the|its|their|your)?\s*(?:legal )?(?:rights|property|safety)|\bsubpoena|"
                   r"\blaw enforcement|\bdata[- ]protection (?:law|legislation|regulation)"),
    Practice("changes", "Notice of policy changes", "How does {company} notify users of changes to its privacy policy?",
             r"(?s)^(?=.*\b(?:chang|updat|modif|revis|amend))(?=.*\b(?:notif|inform|notice|post|publish|e-?mail|alert|"
             r"let you know|announce|display|prominent|last updated|effective date|revision date|on this page|indicate|"
             r"tell you|contact you))", "notifies users"),
    Practice("transfer", "International transfer", "Does {company} transfer personal information to other countries?",
             r"(?s)^(?=.*\b(?:transfer|transmit|stor|process|mov|sen[dt]|export|host|locat|access|held|kept|maintain)\w*)"
             r"(?=.*(?:\b(?:other|third|foreign|different|another|any|multiple|various|many|several)\s+countr|"
             r"\bcountr(?:y|ies)\s+(?:other|outside|where|in which)|\bto\s+(?:\w+\s+){0,2}countr|\boutside\s+(?:of\s+)?(?:the\s+|your\s+)?(?:EU|EEA|European|UK|United|U\.S|country|"
             r"countries|jurisdiction|region|home)|\babroad|\binternational|\bjurisdictions?\b|\bUnited States\b|\bU\.S\.|"
             r"\bUSA\b|\bEurope|\bEEA\b|\bforeign|\boverseas|\bcross-border))", "yes", "no",
             other=_BUSINESS_TRANSFER,
             denial=_NOT_BEFORE + r"(?:transfer|store|stored|process|move|send|sent|leave|export|host)|\bonly (?:with)?in "
                                  r"(?:the )?(?:EU|EEA|European|UK|United|country)"),
    Practice("contact", "Contact or DPO", "How do I contact {company} if I have questions about this privacy policy?",
             r"\bcontact (?:us|our|the|me|them)\b|\bquestions?\b|\bwrite to\b|\b(?:e-?mail|call|reach|ask) us\b|"
             r"\bget in touch\b|\bprotection officer\b|\bDPO\b|\bprivacy (?:officer|team|office)\b|\bcomplain|"
             r"\bconcerns?\b|\bcontact:|@[\w-]+\.\w|\binquir|\benquir|\bmailto:", "yes",
             other=r"\bcontact (?:information|details|data|lists?)\b|\bwe (?:may )?(?:collect|contact you)"),
)
_BY_ID = {p.id: p for p in PRACTICES}
# A denial with an exception ("we do not share ... except with our service providers") is qualified.
_EXCEPTION = re.compile(r"\bexcept|\bunless\b|\bother than\b|\bonly\b|\bapart from\b|\bexclusively\b|"
                        r"\bfor (?:their|its) (?:own )?(?:direct )?(?:marketing|promotional|commercial)|\bdoes not include\b|"
                        r"\bhowever\b|\bwhere we can\b|" + _PURPOSE_LIMIT + "|"
                        r"\bwithout (?:your|the user'?s?) (?:prior |express )?(?:consent|permission)", re.I)


def speaks_to(practice: Practice, sentence: str) -> bool:
    """Whether ``sentence`` is about ``practice`` at all: its words, not another subject's, and no
    definition (nor a user's right, unless the practice is one)."""
    from .polarity import states_own_practice

    if not re.search(practice.words, sentence, re.I) or (practice.other and re.search(practice.other, sentence, re.I)):
        return False
    if states_own_practice(sentence) and not _USER_SUBJECT.match(sentence):
        return True
    return practice.rights and not _DEFINITION_START.match(sentence)


# The user is the subject: "You may not share your log-in", "Users are responsible for ...".
_USER_SUBJECT = re.compile(r"^\W*(?:if\s+)?(?:you|users?|visitors?|members?|customers?)\s+(?:may|must|should|shall|are|is|"
                           r"can|cannot|will|agree|choose|decide|wish|want)\b", re.I)
# A definition: "'Personal information' means ...", "Cookies are small text files ...".
_DEFINITION_START = re.compile(r"^\W*(?:an?\s+|the\s+)?[\w\s'’“”\"-]{1,40}?\b(?:means|refers\s+to|is\s+defined\s+as|"
                               r"(?:is|are)\s+(?:an?\s+)?(?:small|tiny|text|pieces?|files?))\b", re.I)


_HEDGED_NOT = re.compile(r"\b(may|might)\s+not\b", re.I)


def decide(practice: Practice, lead: str | None, stance: str | None, sentence: str, judged: str | None = None,
           company: str = "") -> str:
    """The verdict of ``practice`` for ``sentence`` (the highlight quoted): ``lead`` is the engine's
    Yes/No lead for it (None: none), ``stance`` its looser reading ("yes", "no" or None,
    ``qa.polarity.sentence_stance``); ``judged`` is the judged sentence itself (default: ``sentence``),
    where a denial must stand (not in a sentence the highlight joined to it); ``company`` names the
    policy's company (a denial must be the company's own: "Acme does not sell")."""
    from .polarity import without_named_nots

    judged = sentence if judged is None else judged
    denial = practice.denial and practice.denial.replace("{company}", re.escape(company) if company else "(?!)")
    denied = lead == "No" or (lead is None and stance == "no" and not practice.needs_lead)
    if practice.grant and re.search(practice.grant, judged, re.I):
        denied = False  # "you may request deletion ..., though we may be unable to delete some of it"
    elif denial and re.search(denial, _HEDGED_NOT.sub(r"\1", without_named_nots(judged)), re.I):
        denied = True  # "may not remove ... from our backup systems" hedges; it denies nothing
    elif denied and denial:
        return NOT_STATED  # a negation elsewhere in the sentence: it does not deny the practice itself
    hedged = bool(practice.middle and re.search(practice.hedge, sentence, re.I))
    if denied:
        if hedged and _EXCEPTION.search(sentence):
            return practice.middle
        return practice.no or NOT_STATED  # "we do not collect your SSN" decides nothing where there is no "no"
    if lead is None and practice.needs_lead:
        return NOT_STATED
    if hedged and not (practice.broader and re.search(practice.broader, sentence, re.I)):
        return practice.middle
    return practice.yes


@dataclass(frozen=True)
class Cell:
    """One practice of one policy version: its verdict and the sentence that decides it.

    ``citation`` (None when ``not stated``) quotes the policy: ``highlight`` is the deciding
    sentence, at ``highlight_start:highlight_end`` of the policy's text; ``doc`` with those offsets
    opens the whole policy there (the chat's ``/policy`` endpoint). ``previous`` is the verdict of
    the company's previous policy version when it differs from this one (None: same, or no earlier
    version).
    """

    practice: str
    verdict: str
    citation: Citation | None = None
    previous: str | None = None
    probability: float = 0.0  # the judge's probability that the sentence answers the question

    @property
    def changed(self) -> bool:
        return self.previous is not None

    def to_dict(self) -> dict:
        return {"practice": self.practice, "verdict": self.verdict, "previous": self.previous,
                "changed": self.changed, "probability": self.probability,
                "citation": self.citation.to_json() if self.citation else None}

    @classmethod
    def from_dict(cls, data: dict) -> "Cell":
        cited = data.get("citation")
        citation = None
        if cited:
            citation = Citation(**{k: v for k, v in cited.items() if k in Citation.__dataclass_fields__})
        return cls(data["practice"], data["verdict"], citation, data.get("previous"), float(data.get("probability") or 0))


@dataclass(frozen=True)
class OverviewRow:
    """One policy version's cells, in the order of ``PRACTICES``; ``previous_date`` is the version
    its changes are read against (None: no earlier version)."""

    company: str
    policy_date: str | None
    doc: str
    cells: tuple[Cell, ...]
    previous_date: str | None = None
    has_previous: bool = False

    def cell(self, practice: str) -> Cell:
        return next(c for c in self.cells if c.practice == practice)

    def to_dict(self) -> dict:
        return {"company": self.company, "policy_date": self.policy_date, "version": date_label(self.policy_date),
                "doc": self.doc, "previous_date": self.previous_date, "has_previous": self.has_previous,
                "cells": [c.to_dict() for c in self.cells]}

    @classmethod
    def from_dict(cls, data: dict) -> "OverviewRow":
        return cls(data["company"], data.get("policy_date"), data["doc"],
                   tuple(Cell.from_dict(c) for c in data["cells"]), data.get("previous_date"),
                   bool(data.get("has_previous")))


@dataclass
class Overview:
    """The grid: one row per policy version, one cell per practice. ``computed`` counts the
    cells this call had to compute (0 when everything came from the cache)."""

    rows: list[OverviewRow]
    practices: tuple[Practice, ...] = PRACTICES
    computed: int = 0

    def to_dict(self) -> dict:
        return {"practices": [p.to_dict() for p in self.practices], "rows": [r.to_dict() for r in self.rows]}

    @classmethod
    def from_dict(cls, data: dict) -> "Overview":
        """The overview of ``to_dict`` (or of ``python -m qa overview --json``)."""
        ids = [p["id"] for p in data["practices"]]
        return cls([OverviewRow.from_dict(r) for r in data["rows"]], tuple(_BY_ID[i] for i in ids))

    def to_csv(self) -> str:
        """One line per cell: the policy version, the practice, the verdict and its citation."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            for cell in row.cells:
                c = cell.citation
                writer.writerow({
                    "company": row.company, "version": date_label(row.policy_date), "doc": row.doc,
                    "previous_date": row.previous_date or "", "has_previous": int(row.has_previous),
                    "practice": cell.practice, "verdict": cell.verdict, "previous": cell.previous or "",
                    "probability": cell.probability,
                    **({f: getattr(c, f) for f in _CSV_CITATION} if c else {f: "" for f in _CSV_CITATION}),
                })
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> "Overview":
        """The overview of ``to_csv``."""
        rows: dict[tuple[str, str], dict] = {}
        for line in csv.DictReader(io.StringIO(text)):
            date = None if line["version"] == date_label(None) else line["version"]
            row = rows.setdefault((line["company"], line["doc"]), {
                "company": line["company"], "policy_date": date, "doc": line["doc"],
                "previous_date": line["previous_date"] or None, "has_previous": line["has_previous"] == "1",
                "cells": []})
            citation = None
            if line["highlight"] or line["start"]:
                values = {f: line[f] for f in _CSV_CITATION}
                for f in ("n", "start", "end", "highlight_start", "highlight_end"):
                    values[f] = int(values[f])
                values["score"] = float(values["score"])
                citation = Citation(company=line["company"], policy_date=date, doc=line["doc"], **values)
            row["cells"].append(Cell(line["practice"], line["verdict"], citation, line["previous"] or None,
                                     float(line["probability"])))
        practices = []
        for row in rows.values():
            for cell in row["cells"]:
                if cell.practice not in practices:
                    practices.append(cell.practice)
        return cls([OverviewRow(r["company"], r["policy_date"], r["doc"], tuple(r["cells"]), r["previous_date"],
                                r["has_previous"]) for r in rows.values()],
                   tuple(_BY_ID[p] for p in practices))


_CSV_CITATION = ("section", "highlight", "highlight_start", "highlight_end", "excerpt", "start", "end", "n", "score",
                 "source")
CSV_FIELDS = ("company", "version", "doc", "previous_date", "has_previous", "practice", "verdict", "previous",
              "probability") + _CSV_CITATION


# --- computing cells ------------------------------------------------------------------------------


def deciding(candidates: Iterable[tuple], practice: Practice, threshold: float, denies: float) -> tuple | None:
    """The candidate that decides a cell: of ``candidates`` ((probability, verdict, ...), most probable first),
    the first at least ``threshold`` likely with a verdict, where a denial (the practice's "no") needs ``denies``
    however low ``threshold`` is. None: the cell is not stated."""
    for candidate in candidates:
        probability, verdict = candidate[0], candidate[1]
        if probability < threshold:
            break
        if verdict == NOT_STATED or (verdict == practice.no and probability < denies):
            continue
        return candidate
    return None


class _Asker:
    """Asks the practices' questions of policies, as ``qa.ask`` answers a one-policy question.

    The questions are embedded once (a policy's name becomes "the company" before embedding, so
    every policy shares them), and each judged sentence once per process: the int8 encoder
    embeds every text alone, so a remembered vector is the one the judge would compute."""

    def __init__(self, view: IndexView, config: Config):
        from .judge import get_judge

        self.view, self.config, self.judge = view, config, get_judge(config)
        # The overview reads Yes/No strictly, without the lead gate (round 19), from a sentence at least
        # ``overview_lead`` likely (docs/overview-practices.md, round 43).
        lead = self.judge.lead if self.judge.overview_lead is None else self.judge.overview_lead
        self.strict = replace(self.judge, lead_gate={}, lead=lead)
        self._queries: dict[str, object] = {}
        # What the judge computed (qa.evidence: a sentence's encoding, a question and sentence's
        # cross-encoder score), for one policy at a time: its practices share sentences, other policies
        # rarely do, and each encoding holds a vector per word.
        self._sentences: dict = {}
        self._policy: str | None = None

    def query_vector(self, text: str):
        from index.embedder import embed_query

        if text not in self._queries:
            self._queries[text] = embed_query(self.config.model, text, self.config.query_adapter)
        return self._queries[text]

    def judge_sentences(self, understood, hits, query_vector) -> list:
        """Every sentence ``qa.evidence.judge_passages`` weighs (the first passages' sentences),
        each with the judge's probability, most probable first; sentence encodings are remembered
        between questions."""
        from .evidence import judge_sentences

        return judge_sentences(self.view, understood, hits, self.config, query_vector, memo=self._sentences)

    def cell(self, info: PolicyInfo, practice: Practice) -> Cell:
        """The cell of ``practice`` for one policy version: the first candidate the judge finds likely
        enough (``Judge.states``) whose verdict the learnt reader gives (``read``). A denial needs more
        (``Judge.states_denial``): a cell that says the opposite of the policy costs more than one that
        says "not stated"."""
        found = deciding(self.read(self.candidates(info, practice), practice), practice, self.judge.states,
                         self.judge.states_denial)
        if found is None:
            return Cell(practice.id, NOT_STATED)
        probability, verdict, citation = found
        return Cell(practice.id, verdict, citation, probability=round(probability, 4))

    def read(self, candidates: Iterable[tuple], practice: Practice) -> Iterator[tuple[float, str, Citation]]:
        """(probability, verdict, citation) of ``candidates`` as the learnt reader (``qa.practice_reader``)
        reads them: the verdict it finds at least ``states`` likely, else ``NOT_STATED``. Its "no" stands
        only where the practice's words read the same denial (which the lead's second reader confirmed):
        on the spent grids 1-24, cross-validated by grid, cells right went from 81.5 to 83.9 % and cells
        saying the opposite of the label from 27 to 23 (docs/overview-practices.md, round 50)."""
        from .practice_reader import get_reader

        reader = get_reader()
        for probability, verdict, citation, vector in candidates:
            yield probability, reader.verdict(practice, vector, probability, verdict), citation

    def candidates(self, info: PolicyInfo, practice: Practice) -> Iterator[tuple[float, str, Citation, object]]:
        """(probability, verdict, citation, vector) of the judged sentences a verdict may come from, most
        probable first, computed as they are read: the verdict the practice's words read (``decide``;
        ``NOT_STATED`` for a sentence that does not speak to the practice) and the sentence's vector."""
        from . import names
        from .compose import answer_text, cite, topic_share
        from .polarity import sentence_stance
        from .question import search_text, understand
        from .retrieve import RETRIEVED, query_stems

        if info.doc != self._policy:
            self._sentences.clear()
            self._policy = info.doc
        question = practice.question.format(company=info.company)
        understood = understand(question, [info])
        understood.companies = [info.company]
        understood.unknown_company = None
        docs = [info.doc]
        if names.NAMES_RULE and names.missing_names(understood, self.view, docs):
            return  # "Do Not Track" never written: silent on it
        query = self.query_vector(search_text(question, [info]))
        hits = self.view.hits(query, query_stems(understood), docs, k=RETRIEVED)
        for item in self.judge_sentences(understood, hits, query)[:VERDICT_SENTENCES]:
            citation = cite(self.view, [item], 1, query, topic_share(self.view, understood))[0]
            vector = self._sentences[item.text][0]
            if not speaks_to(practice, citation.highlight):
                yield item.probability, NOT_STATED, citation, vector
                continue
            # The overview reads leads strictly, without the lead gate: the gate lost cells on blind grids 9
            # and 10 (docs/quality.md, round 19).
            text = answer_text(understood, [citation], self.view, set(docs), item.probability, self.strict)
            lead = next((w for w in ("Yes", "No") if text.startswith(w + ". ")), None)
            verdict = decide(practice, lead, sentence_stance(understood, citation.highlight), citation.highlight,
                             item.text, info.company)
            # Retention and children name one verdict "yes" and "no" alike: only a true denial is checked.
            if verdict == practice.no and practice.no != practice.yes and not self.denies(question, citation.highlight):
                verdict = NOT_STATED
            yield item.probability, verdict, citation, vector

    def denies(self, question: str, sentence: str) -> bool:
        """Whether the lead's second reader (learnt from the blind sets' leads) agrees that ``sentence``
        answers ``question`` "No": it finds "Yes" at most ``Judge.polarity_veto`` likely. A denial the
        patterns read and the reader does not decides nothing: on the spent grids 2-17 the cells that said
        the opposite of the policy went from 28 to 18, at one cell right fewer (docs/quality.md, round 47)."""
        from .cross_encoder import yes_probability

        if self.judge.polarity_veto is None:
            return True
        return yes_probability(question, sentence, self.config) <= self.judge.polarity_veto


# --- the cache ------------------------------------------------------------------------------------


_cache_lock = threading.Lock()


# The code and data a cell's verdict comes from: a change to any of them computes every cell again.
_DEPENDS_ON = ("qa/overview.py", "qa/evidence.py", "qa/judge.py", "qa/data/judge.json", "qa/cross_encoder.py",
               "qa/data/cross_encoder.safetensors", "qa/polarity.py", "qa/data/polarity.safetensors",
               "qa/practice_reader.py", "qa/data/practice_reader.json",
               "qa/compose.py", "qa/question.py", "qa/names.py", "qa/retrieve.py", "index/retrieval.py",
               "index/lexical.py", "index/structure.py")


def grid_version(config: Config) -> str:
    """What every cached cell depends on besides its policy: the files of ``_DEPENDS_ON`` (the
    practice table, the judge's code and weights, retrieval) and the encoder."""
    from index.build import current_encoder

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{OVERVIEW_VERSION}\x1f{current_encoder(config)}".encode())
    for name in _DEPENDS_ON:
        path = root / name
        stamp = _stamp(path)
        remembered = _read.get(("code", path))
        if remembered is None or remembered[0] != stamp:
            try:
                remembered = (stamp, hashlib.sha256(path.read_bytes()).hexdigest())
            except OSError:
                remembered = (stamp, "")
            _read[("code", path)] = remembered
        digest.update(remembered[1].encode())
    return digest.hexdigest()[:16]


def policy_key(view: IndexView, doc: str) -> str:
    """A policy version's cache key: the ids of its indexed chunks (hashes of their text, company
    and date, see ``index.build``), so any change to what the engine reads of it is a new key."""
    info = view.policies[doc]
    ids = "\x1e".join(chunk["id"] for chunk in view.doc_chunks.get(doc, []))
    return hashlib.sha256(f"{ids}\x1f{info.company}\x1f{info.policy_date}".encode()).hexdigest()[:24]


def _cache_path(config: Config) -> Path:
    return config.data_dir / CACHE_FILE


def _load_cache(config: Config, version: str) -> dict[str, dict]:
    """The cached cells by policy key (a copy); read again only when the file changed."""
    path = _cache_path(config)
    stamp = _stamp(path)
    remembered = _read.get(("cache", path))
    if remembered is None or remembered[0] != stamp:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        remembered = (stamp, data if isinstance(data, dict) else {})
        _read[("cache", path)] = remembered
    data = remembered[1]
    if data.get("version") != version or not isinstance(data.get("policies"), dict):
        return {}
    return dict(data["policies"])


_read: dict[tuple, tuple] = {}  # files read, with the (size, mtime) they had: read again only when changed


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _save_cache(config: Config, version: str, policies: dict[str, dict]) -> None:
    """Write the cache atomically (best effort: a read-only data folder means no cache)."""
    path = _cache_path(config)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"version": version, "policies": policies}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _stored(cell: Cell) -> dict:
    """A cell as cached: the citation without its file's path and id (they follow the index)."""
    data = {"practice": cell.practice, "verdict": cell.verdict, "probability": cell.probability}
    if cell.citation:
        data["citation"] = {k: v for k, v in asdict(cell.citation).items() if k not in ("source", "doc", "company",
                                                                                        "policy_date")}
    return data


def _restored(data: dict, info: PolicyInfo) -> Cell:
    cited = data.get("citation")
    citation = Citation(company=info.company, policy_date=info.policy_date, source=info.source, doc=info.doc,
                        **cited) if cited else None
    return Cell(data["practice"], data["verdict"], citation, probability=float(data.get("probability") or 0))


@dataclass(frozen=True)
class Catalogue:
    """What the overview needs of an up-to-date index when its cells are cached: the policies and
    their chunk ids, read from the manifest alone (the keyword index and the vector store, which
    only computing a cell needs, stay closed: an unchanged corpus's grid opens in about a second)."""

    config: Config
    policies: dict
    doc_chunks: dict


def catalogue(config: Config, progress=False) -> "IndexView | Catalogue":
    """The index's policies for the overview: a ``Catalogue`` of an up-to-date index, else the index
    brought up to date (``qa.retrieve.ensure_index``)."""
    from index.build import is_stale, load_manifest

    from .retrieve import ensure_index

    if is_stale(config):
        return ensure_index(config, progress=progress)
    stamp = _stamp(config.manifest_path)
    remembered = _read.get(("catalogue", config))
    if remembered is not None and remembered[0] == stamp:
        return remembered[1]
    documents = load_manifest(config)["documents"]
    if not documents:
        return ensure_index(config, progress=progress)  # says the index is empty, and how to fill it
    # As index.retrieval.IndexView reads them.
    policies = {rel: PolicyInfo(rel, e["company"], e.get("domain"), e["policy_date"] or None, e.get("effective_date"),
                                e.get("title", ""), e["source"], len(e["chunks"]), tuple(e.get("aliases") or ()),
                                e.get("added") or 0) for rel, e in documents.items()}
    found = Catalogue(config, policies, {rel: list(e["chunks"]) for rel, e in documents.items()})
    _read[("catalogue", config)] = (stamp, found)
    return found


def policy_cells(view: IndexView, docs: list[str], config: Config | None = None,
                 progress=False) -> tuple[dict[str, tuple[Cell, ...]], int]:
    """Every practice's cell for each policy of ``docs`` (by doc), from the cache or computed and
    cached; and how many cells were computed. ``progress``: True for a terminal progress bar, a
    ``callable(done, total)`` (policies), or False."""
    config = config or view.config
    version = grid_version(config)
    keys = {doc: policy_key(view, doc) for doc in docs}
    cached = _load_cache(config, version)
    computed = 0
    if any(keys[doc] not in cached for doc in docs):
        with _compute_lock:  # one computation at a time; a second caller then finds its cells cached
            cached = _load_cache(config, version)
            todo = [doc for doc in docs if keys[doc] not in cached]
            if todo:
                if isinstance(view, Catalogue):  # cells to compute: the whole index is needed now
                    from .retrieve import ensure_index

                    view = ensure_index(config, progress=progress is True)
                computed = _compute(view, config, version, todo, keys, cached, progress)
    out = {doc: tuple(_restored(cached[keys[doc]]["cells"][p.id], view.policies[doc]) for p in PRACTICES)
           for doc in docs}
    return out, computed


_compute_lock = threading.Lock()
SAVE_EVERY = 50  # policies computed between writes of the cache: an interrupted run keeps its work


def _compute(view: IndexView, config: Config, version: str, todo: list[str], keys: dict[str, str],
             cached: dict[str, dict], progress) -> int:
    """Compute the cells of ``todo`` into ``cached`` and the cache file; returns how many."""
    asker = _Asker(view, config)
    bar = None
    if progress is True and len(todo) > 1:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="overview", unit="policy", file=sys.stderr, dynamic_ncols=True)
    fresh: dict[str, dict] = {}
    computed = 0
    try:
        for n, doc in enumerate(todo, 1):
            info = view.policies[doc]
            cells = [asker.cell(info, p) for p in PRACTICES]
            computed += len(cells)
            fresh[keys[doc]] = {"company": info.company, "policy_date": info.policy_date,
                                "cells": {c.practice: _stored(c) for c in cells}}
            if bar is not None:
                bar.update(1)
            elif callable(progress):
                progress(n, len(todo))
            if len(fresh) >= SAVE_EVERY:
                _merge_into_cache(config, version, fresh)
                cached.update(fresh)
                fresh = {}
    finally:
        if bar is not None:
            bar.close()
        if fresh:
            _merge_into_cache(config, version, fresh)
            cached.update(fresh)
    return computed


def _merge_into_cache(config: Config, version: str, fresh: dict[str, dict], keep: set[str] | None = None) -> None:
    """Add ``fresh`` to the cache file; with ``keep``, also drop the policies not in it (removed ones)."""
    with _cache_lock:
        current = _load_cache(config, version)
        current.update(fresh)
        if keep is not None:
            current = {k: v for k, v in current.items() if k in keep}
        _save_cache(config, version, current)


def update_overview(config: Config | None = None, progress=True) -> int:
    """Compute and cache the cells of every indexed policy version not cached yet (after a build
    or an add); returns how many cells were computed."""
    from .retrieve import ensure_index

    config = config or get_config()
    # Loading a large index only to find every cell cached took seconds: the manifest, the code and
    # the cache as they were after the last complete update mean there is nothing to do.
    if _read_json(config.data_dir / DONE_FILE) == _done_mark(config):
        return 0
    view = ensure_index(config, progress=progress)
    computed = policy_cells(view, list(view.policies), config, progress)[1]
    keep = {policy_key(view, doc) for doc in view.policies}
    if set(_load_cache(config, grid_version(config))) - keep:
        _merge_into_cache(config, grid_version(config), {}, keep)
    try:
        (config.data_dir / DONE_FILE).write_text(json.dumps(_done_mark(config)))
    except OSError:
        pass  # a read-only data folder: the next update checks the cells again
    return computed


DONE_FILE = "overview.done.json"


def _done_mark(config: Config) -> list:
    return [grid_version(config), list(_stamp(config.manifest_path) or []), list(_stamp(_cache_path(config)) or [])]


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# --- the public function --------------------------------------------------------------------------


def overview(company: str | None = None, policy_date: str | None = None, *, config: Config | None = None,
             progress=False) -> Overview:
    """The overview grid: one row per company (its newest policy version), one cell per practice.

    ``company`` (name or domain, any case) keeps that company only; ``policy_date`` (ISO date)
    picks the version of that date instead of the newest (with ``company``, of that company;
    without, of every company that has one). A cell whose verdict differs from the company's
    previous version says so (``Cell.previous``). Raises ``BadQuestion`` for an unknown company or
    date. Cells come from the cache when their policy is unchanged; the rest are computed
    (``progress``: True for a terminal bar, or ``callable(done, total)``).
    """
    from index.companies import resolve_company

    from .answer import _clean_company

    quiet_third_parties()
    config = config or get_config()
    view = catalogue(config, progress is True)
    policies = list(view.policies.values())
    company = _clean_company(company)
    wanted = sorted({p.company for p in policies}, key=lambda name: (name.lower(), name))
    if company:
        named = resolve_company(company, policies)  # as ``qa.ask``'s ``company``: "Reveal" is a name here
        if not named:
            raise BadQuestion(f"no indexed policy is from {company!r}; try one of: {', '.join(wanted[:20])}"
                              + (" …" if len(wanted) > 20 else ""))
        wanted = [named]
    if policy_date is not None and not isinstance(policy_date, str):
        raise BadQuestion("the policy date must be text like 2014-06-25")
    policy_date = (policy_date or "").strip() or None
    chosen: list[tuple[PolicyInfo, PolicyInfo | None]] = []
    for name in wanted:
        versions = sorted((p for p in policies if p.company == name), key=lambda p: p.version_key)
        if policy_date:
            matching = [i for i, p in enumerate(versions) if p.policy_date == policy_date]
            if not matching:
                continue
            i = matching[-1]
        else:
            i = len(versions) - 1
        chosen.append((versions[i], versions[i - 1] if i > 0 else None))
    if not chosen:
        dates = sorted({date_label(p.policy_date) for p in policies if p.company in wanted})
        raise BadQuestion(f"no policy version dated {policy_date}; the versions are: {', '.join(dates[:30])}")
    return _grid(view, chosen, config, progress)


def _grid(view: IndexView, chosen: list[tuple[PolicyInfo, PolicyInfo | None]], config: Config, progress) -> Overview:
    """Rows for (version, the version before it) pairs, each cell marked where the verdict changed."""
    docs = list(dict.fromkeys([p.doc for p, _ in chosen] + [q.doc for _, q in chosen if q is not None]))
    cells, computed = policy_cells(view, docs, config, progress)
    rows = []
    for info, before in chosen:
        mine = cells[info.doc]
        if before is not None:
            theirs = {c.practice: c.verdict for c in cells[before.doc]}
            mine = tuple(replace(c, previous=theirs[c.practice]) if theirs.get(c.practice, c.verdict) != c.verdict
                         else c for c in mine)
        rows.append(OverviewRow(info.company, info.policy_date, info.doc, mine,
                                before.policy_date if before else None, before is not None))
    return Overview(rows, PRACTICES, computed)


def version_row(doc: str, config: Config | None = None) -> OverviewRow:
    """The overview row of one indexed policy version (by its ``doc`` id), changes marked against the
    company's version before it. Raises ``BadQuestion`` for a doc the index does not hold."""
    config = config or get_config()
    view = catalogue(config, False)
    info = view.policies.get(doc) if isinstance(doc, str) else None
    if info is None:
        raise BadQuestion("no indexed policy has that id")
    versions = sorted((p for p in view.policies.values() if p.company == info.company), key=lambda p: p.version_key)
    i = versions.index(info)
    return _grid(view, [(info, versions[i - 1] if i > 0 else None)], config, False).rows[0]


def practice(practice_id: str) -> Practice:
    """The practice of ``practice_id`` (e.g. ``"sale"``)."""
    return _BY_ID[practice_id]


def format_overview(grid: Overview) -> str:
    """A plain-text grid for the terminal: one block per policy version, one line per practice."""
    lines = []
    for row in grid.rows:
        against = f" (changes against {date_label(row.previous_date)})" if row.has_previous else ""
        lines.append(f"{row.company} · policy of {date_label(row.policy_date)}{against}")
        for cell in row.cells:
            name = _BY_ID[cell.practice].name
            mark = f"  [was: {cell.previous}]" if cell.previous else ""
            lines.append(f"  {name:<27} {cell.verdict}{mark}")
            if cell.citation:
                from .compose import quote

                lines.append(f"      “{quote(cell.citation.highlight)}”  ({cell.citation.section or '(no section)'}; "
                             f"{cell.citation.source}:{cell.citation.highlight_start}-{cell.citation.highlight_end})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
