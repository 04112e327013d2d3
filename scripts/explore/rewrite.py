# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import re
PAIRS = [
    (r"\bthe (?:company|website|site|service|app|organization|organisation|firm|business)(?:'s)?\b", "we"),
    (r"\b(?:this|that) (?:company|website|site|service|app|organization|organisation)\b", "we"),
    (r"\bthey\b", "we"), (r"\btheir\b", "our"), (r"\bthem\b", "us"),
    (r"\byou\b", "we"), (r"\byour\b", "our"), (r"\byours\b", "ours"),
    (r"\bmy\b", "your"), (r"\bme\b", "you"), (r"\bI\b", "you"), (r"\bmine\b", "yours"),
    (r"\bthe users?'s?\b", "you"), (r"\busers'?\b", "you"),
]
def to_policy_voice(q):
    out = q
    marks = []
    for i, (pat, rep) in enumerate(PAIRS):
        out = re.sub(pat, f"\x00{i}\x00", out, flags=re.I if pat != r"\bI\b" else 0)
    out = re.sub(r"\x00(\d+)\x00", lambda m: PAIRS[int(m.group(1))][1], out)
    return out
if __name__ == "__main__":
    for q in ["Do you collect my information on your website?", "Does the company share user's information with third party companies?", "Can I delete the data that you have on my account?", "Do they allow users to control the data used in basic services?"]:
        print(to_policy_voice(q))
