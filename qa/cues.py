"""What kind of answer a question wants, and which sentences look like that kind of answer.

"Why ...?" wants a purpose ("in order to ..."), "How long/quickly ...?" a duration, "How do I ...?"
an instruction ("you can ... by clicking ..."), "How will you tell me ...?" a means of notice,
"Where ...?" a place, "Who/which ...?" named parties.
A sentence that looks like the wanted kind of answer gets a small bonus when the evidence
sentence is chosen; the topic words still decide most of it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.I


@dataclass(frozen=True)
class AnswerKind:
    name: str
    question: re.Pattern
    sentence: re.Pattern
    weight: float = 1.0  # how much the shape counts: a sentence without an e-mail address cannot give one
    anywhere: bool = False  # a required shape anywhere in the policy answers (its address), not only near the question
    own_name_answers: bool = True  # False: the policy's own company ("Azendoo SAS") is not the party asked for
    silence: str | None = None  # what a policy without the shape does not say, when "state <name> for this" reads badly


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
# A street line ("157 Dmitrovskoje HWY", "38 rue Jean Mermoz"), a PO box or a postcode with its town.
POSTAL_ADDRESS = re.compile(
    r"\b\d{1,5},?\s+(?:[A-Z][\w'’.-]*\s*){1,4}(?i:street|st\.?|road|rd\.?|avenue|ave\.?|boulevard|blvd\.?|"
    r"hwy|highway|drive|dr\.?|lane|suite|unit|floor)\b|\b\d{1,5},?\s+(?i:rue|via|calle|strasse|straße)\s+[A-Z]|"
    r"\b(?i:P\.?\s?O\.?\s+Box)\b|\b[A-Z]{2}\s+\d{5}\b|\b\d{5}\s*,?\s+[A-Z][a-z]+")

# Asking for the company's own address, not about the user's ("Does X collect my postal address?").
_ABOUT_THE_USERS = (r"(?!.*\b(?:collect|gather|ask(?:s|ed)? for|request|require|store|keep|share|sell|mine|"
                    r"my (?:own |home |billing |shipping |postal |mailing |e-?mail |physical |street )?address(?:es)?)\b)")

KINDS = (
    AnswerKind(
        "purpose",
        re.compile(r"^\s*why\b|\bfor what (?:purposes?|reasons?)\b|^\s*what\b.*\bfor\s*\??\s*$|"
                   r"\b(?:the|what) (?:purposes?|reasons?)\b|\bwhat (?:do|does|will) \w+(?: \w+)? use\b|"
                   r"\bwhat (?:do|does|did|will|would) \w+(?: \w+)? do with\b", _I),
        re.compile(r"\b(?:in order to|so that|so we can|to help|purposes?|used (?:to|for)|allows? us to|"
                   r"enables? us to|to (?:provide|improve|remember|identify|understand|personali[sz]e|offer|"
                   r"customi[sz]e|deliver|operate|process|send|analy[sz]e|measure|prevent))\b", _I),
    ),
    AnswerKind(
        "duration",
        re.compile(r"^\s*how long\b|\bretention period\b|\buntil when\b", _I),
        re.compile(r"\b(?:\d+\s*(?:days?|weeks?|months?|years?)|as long as|so long as|until|no longer|"
                   r"retain(?:ed)?|retention|period)\b", _I),
    ),
    AnswerKind(
        # "How quickly ...?", "How much notice ...?": a time limit, not how long data is kept.
        "time limit",
        re.compile(r"\bhow (?:quickly|soon|fast|much (?:notice|time|warning|advance)|many days)\b|"
                   r"\bwithin (?:what|which|how much) time\b|\bhow long (?:until|before|after)\b|"
                   r"\bhow long (?:will|would|does|do|did|can|could|should|might) (?:it|that|this|they|you) take\b", _I),
        re.compile(r"\b(?:within|at least|no later than|prior to|in advance|before)\b.{0,40}\b(?:\d+|one|two|three|"
                   r"thirty|sixty|ninety)\b.{0,20}\b(?:hours?|days?|weeks?|months?)\b|"
                   r"\b(?:\d+|\(\d+\))\s*(?:business\s+|calendar\s+|working\s+)?(?:hours?|days?|weeks?|months?)\b", _I),
        weight=2.0,
    ),
    AnswerKind(
        "instruction",
        re.compile(r"^\s*how (?:do|can|could|should|may|would) (?:i|we|you|users?|one|customers?|visitors?)\b|"
                   r"\bhow to\b|^\s*(?:can|may|could) (?:i|users?|customers?|visitors?|one)\b|"
                   r"^\s*what (?:can|should) (?:i|users?)\b|\bwhat (?:can|should) (?:i|we|users?) do\b|\bis there a way\b", _I),
        re.compile(r"\b(?:you (?:can|may|should|have the (?:right|option|ability))|click(?:ing)?|settings?|"
                   r"by (?:using|clicking|contacting|sending|emailing|visiting|adjusting|editing)|contact us|"
                   r"unsubscribe|opt[- ]?out|request|ask us|e-?mail us|write to)\b", _I),
    ),
    AnswerKind(
        "time",
        re.compile(r"^\s*when\b|\bwhat date\b|\blast (?:updated|modified|revised|changed)\b", _I),
        re.compile(r"\b(?:(?:19|20)\d\d|january|february|march|april|may|june|july|august|september|october|"
                   r"november|december|days?|effective|updated|prior to)\b", _I),
    ),
    AnswerKind(
        "notice",
        re.compile(r"^\s*how (?:will|would|do|does|can|is|are) .{0,40}\b(?:tell|notify|inform|alert|warn|let)\b"
                   r"|\bhow .{0,40}\b(?:notified|informed|told|alerted|warned)\b"
                   r"|^\s*(?:will|would|does|do|is|are) .{0,40}\b(?:tell|notify|inform|alert|warn|let (?:me|us|users) know)\b"
                   r".{0,30}\b(?:if|when|before|about)\b", _I),
        re.compile(r"\b(?:notif(?:y|ied|ication)|notice|e-?mail|post(?:ing|ed)?|alert|inform)\b", _I),
    ),
    AnswerKind(
        # "How does X protect my data in transit?": the means (a technology, a safeguard), not the promise.
        "means",
        re.compile(r"^\s*(?:(?:in|back in) \d{4},?\s*)?how (?:do|does|did|will|is|are|was|were)\b.{0,60}"
                   r"\b(?:protect|protected|secure|secured|safeguard|safeguarded|encrypt|encrypted|transmit|"
                   r"transmitted|keep .{0,20}safe)\b", _I),
        re.compile(r"\b(?:encrypt\w*|SSL|TLS|secure socket|https|firewalls?|passwords?|authentication|"
                   r"technolog(?:y|ies)|using|by means of|access controls?|physical|locked)\b", _I),
    ),
    AnswerKind(
        # "What happens if I block cookies?": the consequence.
        "consequence",
        re.compile(r"\bwhat (?:happens|will happen|would happen|if)\b|\bwhat are the consequences\b|"
                   r"\bwhat (?:breaks|stops working|(?:will|would) (?:break|stop working))\b|"
                   r"\b(?:can|could|will|would) (?:i|we|users?|you) still (?:use|access|visit|browse|log in)\b.*\bif\b", _I),
        re.compile(r"\b(?:(?:will|may|might) not (?:be able|work|function)|unable|no longer|need to|"
                   r"not (?:be )?available|(?:some|certain) (?:features|parts|functions)|result in|"
                   r"may (?:not|be limited))\b", _I),
        weight=3.0,
    ),
    AnswerKind(
        # "Can they still keep my data after I ask them to delete it?": the exception, not the rule.
        "exception",
        re.compile(r"\b(?:even (?:if|after|though|when)|regardless|despite)\b|"
                   r"\b(?:they|it|you|(?-i:[A-Z][\w&-]+))\s+(?:(?:can|could|may|might|will|would)\s+)?still\b", _I),
        re.compile(r"\b(?:still|may also|except|exceptions?|unless|notwithstanding|as (?:necessary|required) (?:to|by)|"
                   r"legal obligations?|required by law|even if|even after)\b", _I),
        weight=3.0,
    ),
    AnswerKind(
        "place",
        re.compile(r"^\s*where\b|\bwhich countr", _I),
        re.compile(r"\b(?:located|servers?|countr(?:y|ies)|united states|europe(?:an)?|address|street|"
                   r"avenue|suite|[A-Z]{2} \d{5}|\d{5})\b", _I),
    ),
    AnswerKind(
        "contact",
        re.compile(r"\b(?:e-?mail address|contact|reach|get in touch|write to|phone|postal|mailing address)\b", _I),
        re.compile(_EMAIL.pattern + r"|\b(?:address|phone|telephone|mail(?:ing)?|contact (?:us|form))\b", _I),
    ),
    AnswerKind(
        "email address",
        re.compile(rf"^{_ABOUT_THE_USERS}.*(?:\b(?:what|which)\b.{{0,40}}\be-?mail(?: address)?\b.{{0,40}}\b(?:reach|contact|"
                   r"write|send|use|questions?|privacy)\b|\bemail address (?:for|to)\b)", _I),
        _EMAIL,
        weight=3.0,
    ),
    AnswerKind(
        "postal address",
        re.compile(rf"^{_ABOUT_THE_USERS}.*(?:\b(?:postal|mailing|physical|street|office|post)\b.{{0,20}}\baddress\b|"
                   r"\baddress\b.{0,40}\b(?:write|"
                   r"send (?:a )?(?:letter|mail)|post)\b|\bwhere (?:is|are)\b.{0,30}\b(?:office|headquarters|based)\b|"
                   r"\bwhat address\b|^\s*what(?:'s| is)\b(?!.*\b(?:ip|e-?mail|web)\b).{0,30}\baddress\b)", _I),
        POSTAL_ADDRESS,
        weight=3.0,
    ),
    AnswerKind(
        "party",
        re.compile(r"^\s*(?:who|whom|with whom)\b|^\s*which (?:companies|company|third|partners?|services?|"
                   r"providers?|tools?|\w+ (?:service|tool|provider)s?)\b", _I),
        re.compile(r"\((?:e\.g\.|such as|including)|\b(?:such as|e\.g\.|including|providers?|partners?|"
                   r"affiliates?|vendors?)\b|\b[A-Z][a-z]+[A-Z]\w*\b", 0),
    ),
)


def answer_kinds(question: str) -> tuple[AnswerKind, ...]:
    """The kinds of answer ``question`` asks for (often none)."""
    return tuple(kind for kind in KINDS if kind.question.search(question))


def looks_like_answer(kinds: tuple[AnswerKind, ...], sentence: str) -> float:
    """How much ``sentence`` has the shape of the wanted kinds of answer: the largest weight of the
    kinds it matches (1 for most, more for a concrete detail such as an e-mail address), 0 for none."""
    return max((kind.weight for kind in kinds if kind.sentence.search(sentence)), default=0.0)


_NUMBER_WORDS = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|thirty|sixty|ninety)"

# Questions that only a passage of a certain shape answers: without one, the policy is silent.
REQUIRED = (
    AnswerKind(
        "a period of time",
        re.compile(r"^\s*(?:\w+\s*,\s*)?(?:in \d{4},?\s*)?how long\b|\bfor how long\b|\bretention period\b", _I),
        re.compile(rf"\b{_NUMBER_WORDS}\s*(?:\(\d+\)\s*)?(?:business\s+|calendar\s+|working\s+)?"
                   r"(?:days?|weeks?|months?|years?|hours?)\b|\bas long as\b|\bso long as\b|\buntil\b|"
                   r"\bno longer\b|\bretention periods?\b|\bindefinitely\b|\bperiod of time\b|\bpermanently\b", _I),
    ),
    AnswerKind(
        "a phone number",
        re.compile(r"^\s*(?:what|which)\b.{0,30}\b(?:(?:tele)?phone|fax) (?:number|line)\b|"
                   r"^\s*(?:what|which)\b.{0,30}\bnumber\b.*\b(?:call|phone|reach|contact)\b|\bcan I (?:call|phone|ring)\b", _I),
        re.compile(r"\+?\(?\d[\d ().-]{6,}\d\b"),
    ),
)
# Capitalised words policies write that name no company: legal forms, laws, standards, technical terms.
_NOT_COMPANY_NAMES = frozenset("""
SAS SA SARL LLC LLP Inc Ltd GmbH AG BV plc Corp
GDPR DSGVO CCPA COPPA LGPD PIPEDA HIPAA FERPA FCRA DMCA FISA EEA EFTA EMEA APEC EU
API SDK SSL TLS AES CDN CPU RAM SQL HTML5 PDF FAQ EULA PII SSN CVV VAT IMEI IMSI UDID UUID IDFA AAID ANID MUID
MAC DNS TCP VPN WLAN SSID GPS SMS MMS RSS WAP DRM XSRF OEM ISO SOC SOC2 PCI DNT CEO CRM III VII
EXEMPLARY REPRINTS STEM TORT
""".split())


def _named_parties() -> re.Pattern:
    """A named company in a sentence: a name policies write (``qa.question.name_words``), a coined
    name with an inner capital (MailChimp, JivoChat), or a capitalised word given as an example."""
    from .question import name_words

    calendar = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
    listed = "|".join(sorted((re.escape(n) for n in name_words().values() if n not in calendar | _NOT_COMPANY_NAMES),
                             key=len, reverse=True))
    return re.compile(rf"\b(?:{listed or '(?!)'})\b|\b[A-Z][a-z]+[A-Z]\w*|"
                      r"(?i:e\.g\.,?|such as|including)\s+(?!(?:IP|ID|URL)s?\b)[A-Z][\w&-]+")


REQUIRED += (
    AnswerKind(
        "a postal address",
        re.compile(rf"^\s*(?:what|which|where)\b{_ABOUT_THE_USERS}.{{0,40}}\b(?:postal|mailing|street|physical|office)"
                   r"\s+address\b|^\s*where (?:is|are) (?!(?:my|your|our|their|its|the|this|that|data|information)\b)"
                   r"[\w&.-]+(?:'s)? (?:located|based|headquartered)\b", _I),
        POSTAL_ADDRESS,
        anywhere=True,
    ),
    AnswerKind(
        "an e-mail address",
        re.compile(rf"^\s*(?:what|which)\b{_ABOUT_THE_USERS}.{{0,40}}\be-?mail address\b", _I),
        _EMAIL,
        anywhere=True,
    ),
    AnswerKind(
        "a company's name",
        # "Which payment processor ...?", not "What will the company do ...?"
        re.compile(r"^\s*(?:(?:in|back in|as of) \d{4},?\s*)?(?:which|what)\s+"
                   r"(?:(?!(?:the|this|that|your|its|their|our|is|are|will|would|does|do|did|can)\b)[\w-]+\s+){0,2}"
                   r"(?:company|companies|vendor|vendors|processor|processors|brand|brands|firm|firms)\b", _I),
        _named_parties(),
        own_name_answers=False,
    ),
)


_THE_POLICY = (r"(?:this|the|our|its|their|these|such)\s+(?:online\s+)?(?:privacy\s+)?"
               r"(?:policy|policies|statement|notice|terms|page|practices|document|agreement)")
_CHANGE = r"(?:chang|updat|modif|amend|revis)\w*"
REQUIRED += (
    AnswerKind(
        # "Will X tell me if it changes its privacy policy?": only a policy that speaks of its own changes answers.
        "how the policy itself may change",
        re.compile(r"\b(?:chang|updat|modif|amend|revis|rewrit)\w*\s+(?:to\s+|of\s+|in\s+)?(?:its|their|the|this|our|your)?"
                   r"\s*(?:online\s+)?(?:privacy\s+)?(?:policy|policies|statement|notice)\b|"
                   r"\b(?:policy|statement|notice)\s+(?:changes?|updates?|revisions?|amendments?|is (?:changed|updated))\b", _I),
        re.compile(rf"\b{_CHANGE}\b[^.\n]{{0,60}}\b{_THE_POLICY}\b|\b{_THE_POLICY}\b[^.\n]{{0,60}}\b{_CHANGE}|"
                   r"\bsubject to change\b|\b(?:policy|statement|notice|terms)\s+(?:changes?|updates?|revisions?|amendments?)\b", _I),
        anywhere=True,
        silence="whether or how the policy itself may change",
    ),
)

_BREACH = (r"(?:breach\w*|hack\w*|stolen|theft|leak\w*|compromise[sd]?|incidents?|intrusions?|"
           r"unauthori[sz]ed (?:access|disclosure|acquisition))")
_WE_NOTIFY_YOU = (r"(?:(?:notify|inform|alert|warn|tell|contact|e-?mail)\s+(?:you|users|affected|individuals|customers|"
                  r"members|the (?:affected|relevant)|data subjects|them)|notification|let (?:you|users|them) know)")
# The user is the one told ("Should I notify X if my password is compromised?" asks the other way round).
_TELL_ME = (r"(?:(?:notify|tell|inform|alert|warn|e-?mail|contact) (?:me|us|users|customers|you)|notified|told|informed|"
            r"alerted|warned|let (?:me|us|users|you) know|hear)")
REQUIRED += (
    AnswerKind(
        # "Will X tell me if hackers get my data?": security in general is not a promise to notify.
        "breach notification",
        re.compile(rf"\b{_TELL_ME}\b.{{0,80}}\b(?:{_BREACH}|hackers?|get hold)\b|\b{_BREACH}\b.{{0,80}}\b{_TELL_ME}\b", _I),
        re.compile(rf"\b{_WE_NOTIFY_YOU}\b[^.\n]{{0,150}}\b{_BREACH}\b|\b{_BREACH}\b[^.\n]{{0,150}}\b{_WE_NOTIFY_YOU}\b", _I),
        anywhere=True,
        silence="whether it tells users of a security breach",
    ),
    AnswerKind(
        # "What happens to my data if X is bought?": only a clause on a change of owner answers.
        "a change of owner",
        re.compile(r"(?:\b(?i:company|business|it|they)|\b[A-Z][\w&.-]+)\s+(?i:is|was|gets?|got|were|are|being)\s+"
                   r"(?i:ever\s+)?(?i:bought|acquired|sold|taken over|merged|purchased)\b|"
                   r"(?i:\b(?:acquisitions?|mergers?|takeover|buyout|bankrupt\w*|change of (?:control|owner\w*)|"
                   r"goes? (?:bust|bankrupt|out of business)|new owners?)\b)|(?i:\bsells? (?:the|its|their) (?:company|business)\b)"),
        re.compile(r"\b(?:merg(?:e|er|ers|ing|ed)|acqui(?:re|red|res|ring|sition|sitions|rer)|bankrupt\w*|reorgani[sz]\w+|"
                   r"successors?|change (?:of|in) (?:control|ownership)|business transfers?|divest\w*|insolven\w+|"
                   r"assets?\b[^.\n]{0,40}\b(?:sold|transferred|sale)|sold to another|"
                   r"(?:corporate|business|economic|strategic)\s+transactions?|"
                   r"(?:company|business|service|services|assets?)\s+(?:is|are|be|being|were|was)\s+sold)\b", _I),
        anywhere=True,
        silence="what happens to users' data if the company changes hands",
    ),
    AnswerKind(
        # "How does X protect my data?", "Is my data safe with X?": a policy that never speaks of
        # security ("help provide, improve, protect, and promote our service" is not) is silent.
        "a security measure",
        re.compile(r"\bhow (?!(?:can|do|should|could|would|may) (?:i|we)\b)(?:do|does|did|will|would|is|are|was|were|can)\b"
                   r".{0,60}\b(?:protect(?:s|ed)?|secure[sd]?|safeguard(?:s|ed)?|keep .{0,25}\b(?:safe|secure)|hackers?)\b|"
                   r"\b(?:what|which)\b.{0,20}\b(?:security|safety) (?:measures?|steps|safeguards?|practices|precautions|"
                   r"controls)\b|\b(?:is|are) (?:my|our|the) .{0,30}\b(?:safe|secure)\b|"
                   r"\b(?:against|from) (?:hackers?|attacks?|intruders?)\b", _I),
        re.compile(r"\b(?:secur(?:e|ed|ely|ity)|encrypt\w*|SSL|TLS|firewalls?|safeguard(?:s|ed|ing)?|"
                   r"unauthori[sz]ed (?:access|use|disclosure)|protect(?:s|ed|ing)? (?:your|the|personal|all|such|this|"
                   r"these|customer|user|our users|its users)\b)", _I),
        anywhere=True,
        silence="how it protects users' data",
    ),
)


def required_shapes(question: str) -> tuple[AnswerKind, ...]:
    """The shapes an answer to ``question`` must have ("How long ...?": a period of time)."""
    return tuple(kind for kind in REQUIRED if kind.question.search(question))
