"""Page furniture (menus, link runs, leaked code) stays out of chunks; offsets stay exact."""
from index.boilerplate import boilerplate_blocks, is_code, is_menu, link_only
from index.chunking import chunk_policy, plain_text
from index.policies import parse_policy

SAVED_PAGE = """*   [Home](https://shop.example/ "Home")
*   [Deals](https://shop.example/deals)
*   [Gift cards](https://shop.example/gift-cards)
*   [Help](https://shop.example/help)

Products Rooms Deals Ideas Inspiration Seasonal Lighting Storage Organization Kitchen Appliances Textiles Decor Outdoor Bathroom Rugs

var dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('js', new Date());

Privacy Policy
==============

We collect your name and delivery address to ship your order. We share it with the courier.

We work with these analytics partners:

*   [Google Analytics](https://policies.google.com/privacy)
*   [Hotjar](https://www.hotjar.com/legal/policies/privacy/)
*   [Mixpanel](https://mixpanel.com/legal/privacy-policy)

| Cookie | Purpose | Duration |
| --- | --- | --- |
| session_id | Keeps you signed in | 1 day |

Contact: Privacy Office, 1 Main Street, Springfield (555) 010-0199.

*   [Terms](https://shop.example/terms)
*   [Careers](https://shop.example/careers)
*   [Press](https://shop.example/press)
"""


def test_furniture_is_recognised():
    assert link_only('*   [Home](https://shop.example/ "Home")')
    assert not link_only("See our [cookie policy](https://shop.example/cookies) for details.")
    assert is_code("var dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}")
    assert is_code(".css-1x{margin:0;padding:0;} .css-2y{display:flex;}")
    assert not is_code("Contact: Privacy Office, 1 Main Street, Springfield (555) 010-0199.")
    assert is_menu("Products Rooms Deals Ideas Inspiration Seasonal Lighting Storage Organization Kitchen "
                   "Appliances Textiles Decor Outdoor Bathroom Rugs")
    assert not is_menu("| Local Storage | statusCounter | Number of status updates | persistent | Functional |")
    assert not is_menu("Name, Email Address, Postal Address, Phone Number, Date Of Birth, Payment Card Details "
                       "And Billing Address Information Collected")


def test_only_runs_of_links_go_and_an_introduced_list_stays():
    blocks = ["[Home](/)", "[Blog](/blog)", "[Jobs](/jobs)", "We use these partners:", "[Stripe](https://stripe.com)",
              "[Intercom](https://intercom.com)", "[Segment](https://segment.com)", "Read [our terms](/terms)."]
    assert boilerplate_blocks(blocks) == {0, 1, 2}


def test_chunks_hold_the_policy_and_nothing_else():
    policy = parse_policy(SAVED_PAGE, "shop.md")
    chunks = chunk_policy(policy)
    everything = " ".join(c.text for c in chunks)
    for junk in ("Gift cards", "Seasonal Lighting", "dataLayer", "Careers"):
        assert junk not in everything
    for kept in ("delivery address", "Google Analytics", "Hotjar", "session_id", "Springfield"):
        assert kept in everything
    for chunk in chunks:
        # A chunk's source span holds its sentences and no skipped block between them.
        span = SAVED_PAGE[chunk.start:chunk.end]
        assert plain_text(span) == chunk.text
        assert "dataLayer" not in span and "Careers" not in span and "Gift cards" not in span
