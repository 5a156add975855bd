"""Does a proactive message read as marketing? An explainable content check.

Meta (WhatsApp) and Rakuten (Viber) classify a message by what it says: a service update that
also sells something is marketing. Herald applies the same rule before a send, so an agent learns
*why* a message needs marketing consent instead of finding out from a provider rejection.

The check is deliberately simple: lists of phrase patterns per language, matched on a folded copy
of the text (case, accents, curly quotes and odd spaces ignored), with word boundaries. Every hit
becomes a `Signal` carrying the words as they appear in the message and a sentence an agent
understands. The patterns describe selling (money off, codes for money off, come-back offers,
carts, upgrades, launches, giveaways), not the bare words, so "your verification code is 123456",
"your free replacement ships today" or "your order is 20% complete" stay service messages.

What it cannot do: phrase lists only know the wording they were written for. Scored once on
three batches of 40 messages written after the lists (before any pattern was changed for them),
precision was 77-85% and recall 45-55%: new marketing wording ("your favourites are missing you",
"you were so close!") reads as service, and service text that quotes a deal can read as marketing.
So "service" is not proof. Use the verdict beside the declared purpose and the template's
category, to ask an agent to confirm, and let workspaces add their own phrases
(`extra_phrases`). scripts/policy_eval.py measures it on tests/data/proactive_messages.jsonl.

Pure Python: no I/O, no clock, nothing of Herald's imported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

__all__ = [
    "Signal",
    "ContentCheck",
    "SIGNAL_CODES",
    "DEFAULT_PHRASES",
    "LANGUAGES",
    "check_content",
    "find_signals",
    "explain",
]


@dataclass(frozen=True)
class Signal:
    """One reason the text reads as marketing, quoting the message's own words."""

    code: str
    phrase: str
    explanation: str


@dataclass(frozen=True)
class ContentCheck:
    """The verdict on a message's content, with the signals that led to it."""

    marketing: bool
    signals: tuple[Signal, ...]

    def reasons(self) -> list[str]:
        """The explanations to show an agent: each once, in the order they appear in the text."""
        seen: dict[str, None] = {}
        for signal in self.signals:
            seen.setdefault(signal.explanation, None)
        return list(seen)


# --------------------------------------------------------------------------------------------
# What each signal means, in words an agent understands. "{phrase}" is the quoted match.

_EXPLANATIONS: Mapping[str, str] = MappingProxyType({
    "discount": 'Mentions a discount ("{phrase}"): that is a promotion, not a service update.',
    "promo_code": 'Offers a promo code ("{phrase}"): codes for money off are marketing, '
                  "unlike one-time passcodes.",
    "urgency": 'Pushes the customer to buy quickly ("{phrase}"): sales pressure is marketing.',
    "win_back": 'Tries to win back a customer who has gone quiet ("{phrase}"): '
                "re-engagement is marketing.",
    "cart": 'Chases an unfinished purchase ("{phrase}"): abandoned-cart reminders are marketing.',
    "upsell": 'Sells something beyond what the customer already has ("{phrase}"): '
              "upsell and cross-sell are marketing.",
    "promotion": 'Advertises a sale, deal or offer ("{phrase}"): promotional content is marketing.',
    "new_product": 'Announces a new product or collection ("{phrase}"): product news is marketing.',
    "free_offer": 'Offers something free as an incentive ("{phrase}"): a giveaway to prompt a '
                  "purchase is marketing.",
})
_WORKSPACE_EXPLANATION = 'Uses a phrase this workspace lists as marketing ("{phrase}").'

SIGNAL_CODES: tuple[str, ...] = tuple(_EXPLANATIONS)

# Urgency words ("today only", "hurry") also appear in service notices ("open today only until
# 1 PM", "hurry, your parcel goes back on Friday"), so urgency alone is not enough: it counts
# beside another signal, or when two urgency phrases pile up.
_SUPPORTING = frozenset({"urgency"})


# A marketing term the customer already used, now being corrected or reported, is remediation:
# "the 2-for-1 deal you used was charged incorrectly", "your promo code didn't apply", "free shipping
# was applied to your order". Checked on the words right after a discount, code, offer or freebie.
_ALREADY_USED_CODES = frozenset({"discount", "promo_code", "promotion", "free_offer"})
_ALREADY_USED = re.compile(
    r"\W*(?:(?:deal|offer|code|discount|voucher|coupon|price|promotion|sale)\s)?"
    r"(?:you (?:used|applied|redeemed|claimed|chose|were offered)"
    r"|(?:was|were|has been|have been) (?:charged|applied|refunded|credited|honou?red|added|included|waived)"
    r"|(?:didn'?t|did not|wasn'?t|was not|hasn'?t|has not|failed to|couldn'?t|could not) (?:be )?(?:apply|applied|work))",
    re.IGNORECASE,
)

# ... and one that describes what an order already carries: "your order with the 15% student
# discount has shipped", "thanks for redeeming your voucher", "your order from our Black Friday sale".
_DESCRIBES_ORDER = re.compile(
    r"(?:(?:with|using|including|redeeming) (?:the|your)"
    r"|(?:order|orders|purchase|booking|items?) (?:from|in|during) (?:the|our|your))(?: [\w%.,$€£]+)? $",
    re.IGNORECASE,
)


def explain(code: str, phrase: str) -> str:
    """The sentence shown for a signal; unknown codes (workspace lists) get a generic one."""
    return _EXPLANATIONS.get(code, _WORKSPACE_EXPLANATION).format(phrase=phrase)


# --------------------------------------------------------------------------------------------
# Building blocks shared by the phrase lists. Patterns are written against folded text: no
# accents (they are folded here too, so writing them is harmless), straight quotes, single spaces.

_NUM = r"\d+(?:[.,]\d+)*"
PCT = rf"{_NUM} ?%"
MONEY = rf"(?:(?:r\$|us\$|[$€£¥]) ?{_NUM}|{_NUM} ?(?:[$€£]|eur|euros?|dollars?|pounds?|reais))"
# A promo code as people print them: at least two letters, so "use code 771204" (a passcode) is
# not one; either in capitals ("BRUNCH") or letters mixed with digits in any case ("save20"), so
# "use the code below" is not one either.
CODE = (r"(?:(?-i:(?=(?:[0-9]*[A-Z]){2})[A-Z0-9]{4,20})"
        r"|(?=[a-z0-9]*[0-9])(?=(?:[0-9]*[a-z]){2})[a-z0-9]{4,20})")
# Things a customer already has or is owed: "free" before these is remediation, not an offer.
_OWED = (r"(?! (?:replacement|replacements|repair|repairs|return|returns|re-?delivery|collection|"
         r"of charge|cancellation|recall|meal voucher|check-?up|eye test|annual|to (?:cancel|call|"
         r"contact|reply|change)))")
# A bill the business corrects ("$10 off your bill for the outage") is remediation.
_NOT_BILL = r"(?! (?:your|this|the|this month'?s|last month'?s) (?:bill|invoice|statement|balance|fare|fee|account))"


def _freeze(table: Mapping[str, Mapping[str, tuple[str, ...]]]) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    return MappingProxyType({lang: MappingProxyType(dict(codes)) for lang, codes in table.items()})


DEFAULT_PHRASES: Mapping[str, Mapping[str, tuple[str, ...]]] = _freeze({
    "en": {
        "discount": (
            rf"(?:up to |an extra |extra )?{PCT} off{_NOT_BILL}",
            rf"{MONEY} off{_NOT_BILL}",
            rf"(?<!your )(?<!the ){PCT} discount",
            rf"(?:save|saving|savings of) (?:up to |over |an extra )?(?:{PCT}|{MONEY}|\d+ months?|big)",
            r"half[- ]price",
            r"(?:2|two)[- ]for[- ](?:1|one)", r"3[- ]for[- ]2",
            r"buy one,? get one(?: free)?", r"bogo",
            r"for the price of (?:1|one)", rf"any (?:\w+ ){{0,3}}for (?:just |only )?{MONEY}",
            r"(?:lowest|unbeatable|bargain|slashed|knockdown) prices?",
            rf"(?:[2-9]|[1-9]\d) for (?:just |only )?{MONEY}(?! (?:was|were|has|have|is|are)\b)",
            rf"(?:get |earn )?(?:up to )?{MONEY} (?:towards?|off|to spend on) (?:your|a) (?:next|new|first)",
            rf"get (?:up to )?{MONEY} (?:back|cash ?back|credit)",
            rf"{PCT} cash ?back", r"earn cash ?back", rf"{PCT} cheaper",
            r"(?:extra|big|bigger|huge|great|massive) savings", r"savings on (?:selected|all|every|our)",
            r"prices? you won'?t see again",
            r"(?:dropped|drops?) in price", r"price drops?",
            r"(?:get|enjoy|claim|unlock|earn|grab) (?:an? |our |this |that )?(?:\w+ )?discounts?",
            r"(?:exclusive|special|extra|members?|members-only|loyalty|student|seasonal|early[- ]bird) discounts?",
            r"discounts? on (?:your next|all|every|any|our|selected)",
        ),
        "promo_code": (
            r"(?:promo|promotional|discount|coupon|offer|referral) codes?",
            r"coupons?",
            rf"(?:use|using|with|enter|apply|quote|redeem)(?: the| our| your| this)?(?: \w+)? code:? {CODE}",
            rf"codes? {CODE} (?:for|gives|to get|to save|at checkout)",
        ),
        "urgency": (
            r"today only", r"(?:this|the) (?:weekend|week|month) only",
            r"(?:only|just) (?:today|this weekend|this week)",
            r"this (?:week|month|weekend) only",
            r"ends? (?:at )?(?:midnight|tonight|today|soon|sunday|this weekend)", r"until midnight",
            r"while (?:stocks?|supplies) lasts?", r"hurry", r"don'?t miss out",
            r"(?:last|final) chance(?! to (?:collect|pick|confirm|reschedule|rebook|update|renew))",
            r"limited[- ]time(?: only| offer| deal)?", r"limited stock", r"(?:selling|going) fast",
            r"before (?:it'?s|they'?re|they are|it is) gone", r"before (?:it|they) sells? out",
            r"(?:almost|nearly) sold out", r"before it'?s too late", r"act fast", r"don'?t wait",
            r"prices? (?:may|will|could) go up", r"only \d+ (?:left|remaining)",
            r"(?:left|remaining) at this price",
        ),
        "win_back": (
            # not "sorry we missed you" (a delivery card)
            r"(?<!\x27)(?!will )\w+ (?:miss|misses) you", r"\w+(?:'ve| have) missed you",
            r"come back(?! (?:later|tomorrow|to (?:collect|pick)))",
            r"(?:love|like) to (?:have|see|welcome) you back", r"welcome you back",
            r"(?:it'?s|it has) been (?:a while|ages|too long|so long|forever)",
            r"since (?:your|you) last (?:order|visit|purchase|booking|stay|ordered|visited|shopped|came|logged in)",
            r"(?:haven'?t|have not|didn'?t) (?:seen|heard from) you",
            r"(?:haven'?t|have not) (?:used|visited|ordered|shopped|booked|logged in|opened) (?:\w+ )?(?:lately|recently|in a while|for a while)",
            r"long time no see", r"(?:are|is) missing you",
            r"your last (?:order|visit|ride|trip|stay|booking|purchase|takeaway|class|session|delivery|appointment)(?: with us)? was (?:in|on|back in|over|more than)",
            r"reactivate your (?:subscription|membership|plan|premium)", r"rejoin", r"re-?subscribe",
            r"restart your (?:subscription|membership|plan)",
            r"give us another (?:try|go|chance)", r"pick up where you left off",
            r"what you'?ve been missing", r"still thinking about us", r"you left before",
        ),
        "cart": (
            r"(?:in|from) (?:your|the) (?:shopping )?(?:cart|basket|trolley)", r"shopping carts?",
            r"your (?:shopping )?cart(?! (?:number|no|id)\b)",
            r"(?:items?|something|products?|things) (?:left )?(?:still )?in your (?:basket|bag|trolley)",
            r"still in your (?:bag|basket|trolley)", r"your (?:basket|trolley) (?:is|are) (?:still )?waiting",
            r"complete your (?:purchase|checkout)", r"complete your (?:order|booking) (?:now|today)",
            r"(?:finish|finished|finishing|complete) (?:checking out|your checkout|your purchase|booking|your booking|your reservation|reserving)",
            r"still (?:want|interested in|looking at) (?:those|these|that|this|it|them)",
            r"checkout (?:is )?(?:incomplete|unfinished|waiting)",
            r"check ?out (?:now|today|in (?:one|a single) (?:tap|click))",
            r"wish ?lists?", r"you were so close",
            r"you (?:were|have been) (?:eyeing|looking at|browsing|viewing)",
            r"recently viewed", r"saved items", r"forgot something", r"still thinking (?:it over|about it)",
        ),
        "upsell": (
            r"upgrade (?:now|today|here|your (?:plan|account|membership|subscription|seat|room|ticket))",
            r"(?<!your )(?<!the )(?<!an )(?<!a )(?<!free )(?<!complimentary )upgrade to",
            r"go (?:pro|premium|plus|unlimited|gold)",
            r"(?<!your )switch to (?:annual|yearly|an annual|a yearly|premium|pro|unlimited)",
            r"(?:you might|you may|you'?ll) also (?:like|love|enjoy)",
            r"(?:customers|people|others) who bought",
            r"(?:also|frequently) bought", r"complete (?:your|the) look",
            r"why not (?:add|make|try|upgrade|treat|pair|bundle)", r"make it a meal",
            r"eligible for (?:a )?(?:higher|bigger|larger|increased) (?:credit )?limit", r"pre-?approved",
            r"(?:you'?re|you are) (?:now )?eligible for (?:an? |our )?(?:upgrade|faster|higher|bigger|better|premium|full fibre)",
            r"switch (?:today|now)", r"borrow more",
            r"add (?:the |a |an )?(?:\w+ ){0,2}(?:bolt-?on|add-?on)s?",
            rf"for (?:an? )?(?:extra|additional) {MONEY}", rf"for {MONEY} (?:more|extra)",
            rf"add (?:\w+ ){{1,5}}for (?:only |just )?{MONEY}",
            r"get more (?:from|out of) your",
            rf"(?:more|extra) (?:\w+ )?for (?:only |just )?{MONEY}",
            r"trade[- ]in (?:your|offers?|deals?|bonus|credit of|value of up to)",
            r"did you know (?:our|that our|you can|we (?:also|now))",
            r"unlock (?:advanced|premium|more|exclusive|extra|all)",
            r"bundle (?:and save|your|\w+ and \w+)",
        ),
        "promotion": (
            r"(?:summer|winter|spring|autumn|fall|flash|clearance|mid-season|end of season|end-of-season|"
            r"january|boxing day|holiday|christmas|easter|anniversary|birthday|warehouse|sample|big|"
            r"biggest|annual|seasonal|weekend|members?'?|vip|private) sales?",
            r"sale (?:starts|ends|is on|is live|now on)", r"our sale", r"on sale",
            r"(?:black friday|cyber monday|prime day)(?! (?:order|orders|purchase|delivery|parcel|booking)\b)",
            r"(?<!our )(?<!the )(?<!your )shop (?:now|today|online|early|with us)",
            r"shop (?:the|our|all) (?:\w+ ){0,2}(?:sales?|collections?|range|deals|offers|arrivals|latest|new|bestsellers)",
            r"(?:special|exclusive|limited|great|amazing|unbeatable|seasonal|introductory|welcome|holiday|"
            r"members?[- ]only|vip|best|top|hot|incredible|fantastic|daily|flash|big|latest|weekend|"
            r"christmas|summer|winter|member) (?:offers?|deals?)",
            r"deals? of the (?:day|week)", r"deals? (?:are|is) (?:live|here|on)",
            r"prize draw", r"(?:monthly|weekly|grand) draw",
            r"(?:entered|enter) (?:into )?(?:our|a|the) (?:[\w$€£]+ ){0,2}draw",
            r"(?:vip|private|exclusive|members?'?|late-night|late night) (?:shopping|event|evening|night|preview|party)s?",
            r"shopping (?:night|event|evening)", r"giveaway", r"sweepstakes?", r"raffle",
            r"(?:chance|enter|compete) to win",
            r"to win (?:a|an|one)",
            r"(?:refer|invite) (?:a friend|your friends|friends)", r"referral (?:bonus|reward|credit)",
            r"(?:earn|get|collect) (?:double|triple|2x|3x|bonus|extra) (?:points|rewards|miles|stamps)",
            r"double points", r"bonus points",
            r"treat yourself", r"(?:perfect|ideal) (?:gift|present)",
            r"(?:week'?s|today'?s|weekly|daily|monthly|our|lunch|dinner|happy hour) specials",
            rf"(?:from|for|at) (?:only|just) {MONEY}",
            rf"(?:from|starting at) {MONEY} ?(?:/ ?(?:month|mo|year|night|person)|a (?:month|year|night)|per (?:month|year|night|person)|pp|one way|return)",
            rf"(?:only|just) {MONEY} (?:more|extra|a month|per month|/ ?month|a year|per person)",
            rf"spend (?:over |at least )?{MONEY}(?: or more)?,? (?:and |to )?(?:get|receive|save|earn)",
            r"fancy (?:a|an|some|ordering|booking|trying)", r"celebrate with us",
            r"check out (?:our|this week'?s|these|the latest|the new|what'?s new)",
            r"(?:store|shop) (?:opening|launch)", r"grand opening",
            r"best-?sell(?:ing|ers?)", r"(?:buy|shop|grab|claim|try) (?:it |one |yours |them )?now",
            r"(?:get|grab|reserve|claim|book|order|secure) yours", r"(?:early|priority|vip) access",
            r"exclusive (?:access|perks?|rewards?)", r"(?:extra|more) perks",
        ),
        "new_product": (
            r"introducing(?! (?:your|our team|the team))",
            r"(?:meet|say hello to) (?:our|the) (?:new|newest|latest)",
            r"say hello to (?!your |the team)", r"new arrivals",
            r"new arrival(?! (?:window|time|date|slot|estimate))",
            r"(?:just|newly) (?:landed|launched|arrived|dropped)", r"(?:we'?ve|we have) (?:just )?launched",
            r"our (?:newest|latest) \w+",
            r"the (?:newest|latest) (?:collection|range|feature|product|model|menu|flavou?r|addition|arrivals?|release)",
            r"(?:on (?:the )?shelves|in (?:all )?stores|in store) now",
            r"(?:christmas|festive|holiday|summer|winter|autumn|spring|seasonal) (?:menu|collection|range|catalogue|catalog)",
            r"(?:catalogue|catalog|collection|range|lookbook) is (?:out|here|live|back)",
            r"new (?:colou?rs?|styles?|designs?|flavou?rs?|shades?|season)", r"(?:fresh|new|latest) drops?",
            r"(?:new|latest) (?:collection|range|menu|flavou?rs?|season|lineup|line-up|release)",
            r"now in stock", r"back in stock",
            r"now (?:available|on sale) (?:to (?:order|buy|pre-?order)|in (?:all |our )?(?:stores?|shops?)|online|everywhere)",
            r"(?:^|(?<=[.!?] ))now available ?:", r"(?:^|(?<=[.!?] ))new ?[:!]",
            r"available to (?:order|pre-?order|buy) (?:today|now)",
            r"in (?:all )?(?:our )?stores? from today",
            r"the wait is over", r"(?:try|taste|discover|explore) (?:our|the) (?:new|latest)",
            r"see what'?s new", r"(?:our|the) new (?:\w+ ){0,2}(?:is|are) (?:now )?(?:live|here|out)",
        ),
        "free_offer": (
            r"(?:get|enjoy|claim|receive|earn|grab|win|unlock|give you|plus) (?:a |an |one |two |\d+ )?"
            r"(?:\w+ ){0,2}(?:for )?free" + _OWED,
            r"(?:get|enjoy|claim|grab) (?:it|them|one) free",
            r"(?<!your )(?<!the )free (?:gifts?|dessert|drinks?|coffee|glass|samples?|upgrade|months?|week|"
            r"shipping|delivery|p&p|postage|bottle|side|starter|class|session|lesson|entry|tickets?|goodies|"
            r"game|spins?|trial(?! (?:ends?|ended|expires?|is ending|will end|period)))",
            r"\d+ (?:months?|weeks?) (?:for )?free",
            r"free for (?:\d+|a|one|two|three) (?:months?|weeks?|year)",
            r"(?:is|are) on us", r"on the house",
            r"(?:first|second|next|1st|2nd) (?:\w+ ){0,3}(?:is|are) free",
            r"(?:free|no) (?:joining|sign-?up|activation|setup|set-up) fee",
            r"pay no (?:joining|sign-?up) fee",
            r"goodie bags?", r"freebies?", r"book (?:a|your) free",
            r"(?:kids|children|everyone|you) (?:eat|drink|stay) free",
        ),
    },
    "es": {
        "discount": (
            rf"(?:hasta (?:un |el )?)?-?{PCT} (?:de )?(?:descuento|dto\.?)",
            rf"descuentos? (?:del|de un|de hasta|de) (?:{PCT}|{MONEY})",
            r"(?:obten|consigue|disfruta de|aprovecha|recibe|llevate) (?:un |tu |el |los |nuestros )?descuentos?",
            r"(?:2|dos) ?x ?(?:1|uno)", r"3 ?x ?2", r"mitad de precio", r"al precio de (?:uno|una|1|dos|2)",
            rf"ahorra(?:r)? (?:hasta |un )?(?:{PCT}|{MONEY})",
            r"precios? (?:rebajados|increibles|de locura|minimos)",
        ),
        "promo_code": (
            r"codigos? (?:promocional(?:es)?|de descuento|descuento)", r"cupon(?:es)?",
            rf"(?:usa|utiliza|introduce|aplica|con) el codigo:? {CODE}",
        ),
        "urgency": (
            r"solo (?:hoy|por hoy|este fin de semana|esta semana)", r"hasta agotar (?:existencias|stock)",
            r"ultima oportunidad", r"date prisa", r"no te lo pierdas", r"por tiempo limitado",
            r"antes de que se agoten?",
        ),
        "win_back": (
            r"te (?:echamos|hemos echado) de menos", r"(?:te|los|las) extranamos",
            r"vuelve (?:y|con nosotros|pronto)", r"vuelve a (?:visitarnos|comprar)",
            r"hace (?:tiempo|mucho) que no (?:te vemos|nos visitas|compras|sabemos de ti)",
            r"(?:queremos|nos encantaria) (?:verte|tenerte) de nuevo",
        ),
        "cart": (
            r"en (?:tu|el) carrito", r"tu carrito (?:te espera|sigue|todavia)",
            r"(?:en tu|tu) cesta (?:de la compra )?(?:te espera|sigue)",
            r"(?:completa|finaliza|termina) tu (?:compra|reserva)",
            r"lista de deseos",
        ),
        "upsell": (
            r"mejora a", r"(?:pasate|cambiate|actualiza) a (?:premium|pro|plus)",
            r"(?:tambien )?te (?:podria|puede) (?:gustar|interesar)",
            rf"por (?:solo|tan solo) {MONEY}(?: mas)?",
        ),
        "promotion": (
            r"rebajas",
            r"ofertas? (?:especial(?:es)?|exclusivas?|limitadas?|flash|del dia|de la semana|imperdibles?)",
            r"aprovecha (?:nuestra|nuestras|esta|estas|la|las|el|ya|ahora)",
            r"(?:compra|reserva|pide) (?:ya|ahora)",
            r"liquidacion", r"black friday", r"cyber monday", r"sorteo", r"invita a (?:un amigo|tus amigos)",
            rf"desde (?:solo )?{MONEY}",
        ),
        "new_product": (
            r"novedad(?:es)?", r"nuev(?:a|o)s? (?:coleccion|temporada|menu|gama|producto)",
            r"descubre (?:nuestr[ao]s? |la |el )?(?:nuev|ultim)\w*", r"acab(?:a|amos) de (?:llegar|lanzar)",
            r"ya disponible en (?:tiendas|tienda)",
        ),
        "free_offer": (
            r"(?:envio|entrega|portes|regalo|muestra|entradas?|acceso|postre|cafe|bebida|meses|mes) gratis",
            r"\d+ (?:meses?|semanas?) gratis",
            r"(?:consigue|llevate|obten|disfruta de|recibe) (?:un |una |tu |el )?(?:\w+ )?(?:gratis|gratuit[oa])",
            r"(?:te|les|os) regalamos", r"regalo (?:de bienvenida|exclusivo|sorpresa)",
        ),
    },
    "pt": {
        "discount": (
            rf"-?{PCT} (?:de )?(?:desconto|off)", rf"descontos? de (?:ate )?(?:{PCT}|{MONEY})",
            r"(?:ganhe|receba|aproveite|garanta|obtenha) (?:um |o |os |seu |nossos )?descontos?",
            rf"(?:economize|poupe) (?:ate )?(?:{PCT}|{MONEY})",
            r"leve (?:2|dois|3|tres) pague (?:1|um|2|dois)",
            r"metade do preco", r"pelo preco de (?:um|uma|1|dois|2)",
            r"precos? (?:imbativeis|reduzidos|baixissimos)",
        ),
        "promo_code": (
            r"codigos? (?:promocional|promocionais|de desconto)", r"cupo(?:m|ns|es)", r"cupao",
            rf"(?:use|usa|utilize|insira|com) o (?:codigo|cupom|cupao):? {CODE}",
        ),
        "urgency": (
            r"so (?:hoje|ate (?:domingo|amanha|hoje))", r"ultimas? (?:oportunidade|chance|unidades)",
            r"por tempo limitado", r"enquanto (?:durarem os estoques|durar o stock|houver stock)",
            r"nao perca", r"corra",
        ),
        "win_back": (
            r"sentimos (?:a )?(?:sua|tua) falta", r"(?:estamos com|temos) saudades",
            r"volte (?:a (?:comprar|visitar)|e|para|logo)", r"faz (?:tempo|muito tempo) que (?:voce )?nao",
        ),
        "cart": (
            r"no (?:seu |teu )?carrinho",
            r"(?:seu|teu|o) carrinho (?:esta a sua espera|espera por (?:voce|ti)|ainda)",
            r"(?:finalize|conclua|complete|termine) (?:a )?(?:sua )?compra", r"lista de desejos",
        ),
        "upsell": (
            r"faca (?:o )?upgrade", r"(?:mude|passe) para (?:o |a )?(?:plano|fibra|pacote|premium|pro)\w*",
            rf"por mais {MONEY}", r"(?:voce )?tambem (?:pode|vai) gostar",
            rf"por (?:apenas|so) (?:mais )?{MONEY}",
        ),
        "promotion": (
            r"promoc(?:ao|oes)", r"ofertas? (?:especial|especiais|exclusivas?|imperdive(?:l|is)|relampago)",
            r"aproveite (?:ja|agora|a promocao|as ofertas|os descontos)", r"aproveite ?[:!]",
            r"compre (?:ja|agora|hoje)", r"liquidacao", r"black friday", r"sorteio",
            r"indique (?:um amigo|amigos)",
        ),
        "new_product": (
            r"(?<!sem )(?<!nao ha )novidades?", r"nova colecao",
            r"(?:chegou|chegaram) (?:a|o|as|os) (?:nov|ultim)\w*",
            r"lancamentos?", r"acab(?:a|ou|amos|aram) de (?:chegar|lancar|sair)",
            r"(?:o|a|os|as) nov[oa]s? (?:sabor(?:es)?|colecao|linha|modelos?|produtos?|menu|gama)",
            r"experimente (?:ja|agora|o novo|a nova|os novos|as novas)",
        ),
        "free_offer": (
            r"(?:frete|entrega|envio|portes) gratis", r"\d+ (?:meses|dias) gratis",
            r"(?:ganhe|receba|leve) (?:um |uma |o |a )?(?:\w+ )?(?:gratis|gratuit[oa]|de brinde|de presente)",
            r"brindes?",
        ),
    },
    "fr": {
        "discount": (
            rf"-{PCT}", rf"{PCT} de (?:reduction|remise|rabais)",
            rf"(?:reductions?|remises?) de (?:{PCT}|{MONEY})",
            r"(?:beneficiez|profitez) (?:d'?une|de la|de) (?:reduction|remise)",
            rf"(?:economisez|economiser) (?:jusqu'?a )?(?:{PCT}|{MONEY})",
            r"(?:prix|tarifs?) (?:casses|barres|reduits|mini)", r"moitie prix",
            r"(?:2|deux) pour (?:1|un|le prix d'?un)", r"pour le prix d'?(?:un|une)",
        ),
        "promo_code": (
            r"codes? (?:promo|promotionnels?|de reduction|reduc)", r"coupons?",
            rf"(?:utilisez|saisissez|entrez|avec) (?:le )?code:? {CODE}",
        ),
        "urgency": (
            r"(?:seulement|uniquement) aujourd'?hui", r"aujourd'?hui seulement", r"derniere chance",
            r"dans la limite des stocks(?: disponibles)?", r"depechez-vous",
            r"ne (?:le |la |les )?manquez pas",
            r"pour une duree limitee", r"offre limitee", r"avant qu'?il ne soit trop tard",
        ),
        "win_back": (
            r"vous nous manquez", r"tu nous manques", r"revenez(?! (?:plus tard|demain))", r"reviens",
            r"(?:ca|cela) fait (?:longtemps|un moment)", r"(?:nous aimerions|on aimerait) vous revoir",
        ),
        "cart": (
            r"(?:votre|ton|du|le|au|dans le|dans votre) panier(?! (?:repas|garni|bio|de (?:fruits|legumes)))",
            r"(?:finalisez|terminez|completez) (?:votre|ton) (?:commande|achat)", r"liste d'?envies",
        ),
        "upsell": (
            r"passez a (?:l'?offre |la formule |l'?abonnement )?(?:premium|pro|plus|superieur\w*|annuel\w*)",
            r"(?:vous aimerez|tu aimeras) aussi", rf"pour (?:seulement|juste) {MONEY}",
            r"(?:optez|passez) pour (?:l'?offre|la formule) (?:premium|pro|plus|superieure)",
        ),
        "promotion": (
            r"soldes",
            r"offres? (?:speciales?|exclusives?|limitees?|promotionnelles?|de bienvenue|du moment)",
            r"promos?", r"promotions? (?:de|d'|speciales?|exceptionnelles?|en cours|du moment)",
            r"profitez-en", r"bons? plans?", r"ventes? (?:privees?|flash)",
            r"(?:achetez|commandez|reservez) (?:des )?maintenant", r"black friday", r"jeu concours",
            r"parrainez",
        ),
        "new_product": (
            r"nouveautes?", r"nouvelle (?:collection|gamme|carte|saison)", r"nouveau (?:produit|menu|modele)",
            r"decouvrez (?:notre |nos |la |le |les )?(?:nouv|dernier)\w*",
            r"disponible des (?:aujourd'?hui|maintenant)(?: en (?:magasin|boutique))?", r"en avant-premiere",
            r"^nouveau ?[:!]",
        ),
        "free_offer": (
            r"livraison (?:gratuite|offerte)", rf"{MONEY} offerts?", r"cadeau (?:offert|de bienvenue)",
            r"(?:recevez|obtenez|beneficiez de|profitez de) (?:un |une |la |le |votre )?(?:\w+ ){0,2}"
            r"(?:gratuit(?:e|s|es)?|offert(?:e|s|es)?)",
            r"\d+ mois (?:gratuits?|offerts?)",
        ),
    },
    "de": {
        "discount": (
            rf"{PCT} (?:rabatt|nachlass|reduziert|gunstiger|off)", rf"{MONEY} rabatt", r"rabatt (?:auf|von)",
            r"\w*rabattaktion", rf"spar(?:e|st|en|t)? (?:du |sie )?(?:bis zu )?(?:{PCT}|{MONEY})",
            r"(?:zum )?halben preis", r"zum preis von (?:einer|einem|einen|1|zwei|2)", r"schnappchen\w*",
            r"(?:tiefst|sonder|aktions)preis(?:e|en)?",
        ),
        "promo_code": (
            r"\w*gutscheincodes?", r"rabattcodes?", r"aktionscodes?", r"promocodes?", r"coupons?",
            rf"(?:mit dem |den )?(?:code|gutschein) {CODE}",
        ),
        "urgency": (
            r"nur (?:heute|noch heute|diese woche|dieses wochenende|fur kurze zeit)",
            r"solange der vorrat reicht", r"letzte chance", r"jetzt zugreifen", r"nicht verpassen",
            r"zeitlich begrenzt", r"begrenztes angebot", r"beeil(?:en sie sich|dich)",
        ),
        "win_back": (
            r"wir vermissen (?:dich|sie|euch)", r"(?:komm|kommen sie|kommt) zuruck",
            r"lange nicht gesehen", r"schon lange nicht mehr",
        ),
        "cart": (
            r"(?:im|in deinem|in ihrem|deinen|ihren|dein|ihr) (?:warenkorb|einkaufswagen)", r"merkzettel",
            r"wunschliste",
            r"schliesse? (?:deine|ihre) bestellung (?:jetzt )?ab",
        ),
        "upsell": (
            r"(?:auf|zu) \w+ upgraden", r"upgrade(?:n)? (?:auf|zu)",
            r"(?:konnte|durfte) (?:dir|ihnen) auch gefallen",
            rf"fur nur {MONEY}", r"(?:wechsle|wechseln sie) (?:jetzt )?(?:zu|auf) (?:premium|pro|plus)",
        ),
        "promotion": (
            r"\w*schlussverkauf", r"angebote? (?:der woche|des tages)",
            r"(?:sonder|top|exklusiv|spar|super)angebote?",
            r"(?:exklusive|tolle|besondere) angebote?", r"jetzt (?:kaufen|bestellen|shoppen|sichern)",
            r"gewinnspiel", r"freunde werben", r"black friday",
        ),
        "new_product": (
            r"neu eingetroffen", r"neuheit(?:en)?", r"(?:neue|unsere neue) (?:kollektion|saison|produkte?)",
            r"\w*kollektion(?:en)?", r"entdecke(?:n sie)? (?:jetzt )?(?:unsere|die) neu\w*", r"jetzt neu",
            r"ab sofort (?:im handel|in (?:allen|unseren) (?:filialen|geschaften|markten))",
        ),
        "free_offer": (
            r"(?:gratis|kostenlos(?:e|en|er)?) (?:versand|lieferung|probe|geschenk|zugabe|testmonat)",
            r"versandkostenfrei", r"\d+ (?:monate?|wochen) (?:gratis|kostenlos)", r"geschenkt", r"umsonst",
            r"(?:erhalte|erhalten sie|sichere dir|sichern sie sich|hol dir) (?:ein(?:en|e)? |deine |ihr(?:en|e)? )?"
            r"(?:\w+ )?(?:gratis|kostenlos\w*|geschenk)",
        ),
    },
    "it": {
        "discount": (
            rf"{PCT} (?:di )?sconto", rf"sconto (?:del |di |fino al )?(?:{PCT}|{MONEY})",
            r"(?:weekend|giorni|settimana|festa|mese|mese) (?:di|degli|dello|dei) sconti",
            r"sconti (?:fino al|del|su tutto|esclusivi|imperdibili|speciali)", rf"(?:al )?{PCT} in meno",
            r"(?:ricevi|ottieni|approfitta (?:di|dello|degli)) (?:uno |lo |gli )?scont[oi]",
            rf"(?:risparmia|risparmi) (?:fino al )?(?:{PCT}|{MONEY})",
            r"prezzi? (?:scontati|ribassati|stracciati|bassissimi)", r"meta prezzo",
            r"al prezzo di (?:uno|una|1|due|2)",
            r"prendi (?:2|3|due|tre) paghi (?:1|2|uno|due)",
        ),
        "promo_code": (
            r"codic(?:e|i) (?:sconto|promozionale|promozionali|promo)", r"buon(?:o|i) sconto", r"coupon",
            rf"(?:usa|utilizza|inserisci|con) il codice:? {CODE}",
        ),
        "urgency": (
            r"solo (?:per )?oggi", r"solo fino a", r"ultima occasione", r"fino ad esaurimento scorte",
            r"non (?:perdere|perderti) (?:l'?occasione|questa offerta|i saldi|le offerte)", r"affrettati",
            r"a tempo limitato", r"imperdibil[ei]",
        ),
        "win_back": (
            r"ci manchi", r"ci mancate", r"torna (?:da noi|a trovarci|a (?:visitarci|comprare))",
            r"e passato (?:un po'?|molto tempo)",
            r"(?:non )?ti (?:vediamo|abbiamo visto) da (?:un po'?|tempo)",
        ),
        "cart": (
            r"nel (?:tuo )?carrello", r"(?:il tuo )?carrello (?:ti aspetta|e ancora|ti sta aspettando)",
            r"completa (?:l'?acquisto|il tuo (?:acquisto|ordine))", r"lista dei desideri",
        ),
        "upsell": (
            r"passa a (?:premium|pro|plus)", r"(?:ti )?potrebbe (?:anche )?piacer(?:e|ti)",
            rf"(?:a|per) soli {MONEY}", r"fai l'?upgrade",
        ),
        "promotion": (
            r"saldi", r"offert[ae] (?:special[ei]|esclusiv[ae]|imperdibil[ei]|limitat[ae]|lampo)",
            r"promozion[ei]", r"approfittane", r"approfitta (?:ora|subito|delle|della|dei)",
            r"(?:acquista|compra|prenota|ordina) (?:ora|subito|adesso)", r"black friday", r"concorso",
            r"invita un amico", rf"(?:a partire da|da soli) {MONEY}",
        ),
        "new_product": (
            r"(?<!nessuna )novita", r"nuov[ao] (?:collezione|menu|gamma|stagione|prodotto)",
            r"scopri (?:la |il |le |i |la nostra |il nostro )?(?:nuov|ultim)\w*",
            r"e arrivat[oa] (?:il|la) nuov\w*",
            r"appena arrivat[ioe]",
        ),
        "free_offer": (
            r"spedizione (?:gratuita|gratis)", r"in omaggio", r"regalo (?:di benvenuto|esclusivo)",
            r"(?:ricevi|ottieni|ottenere) (?:un |una |il |la )?(?:\w+ )?(?:gratis|gratuit[oa])",
            r"\d+ mesi (?:gratis|gratuiti)",
        ),
    },
})

LANGUAGES: tuple[str, ...] = tuple(DEFAULT_PHRASES)


# --------------------------------------------------------------------------------------------
# Folding: the text is matched in one canonical form, and every folded character remembers the
# original character it came from, so a signal quotes the message exactly as written.

_CHAR_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
}


def _fold(text: str) -> tuple[str, list[int]]:
    """Strip accents, straighten quotes and dashes, collapse whitespace; keep an index map back."""
    out: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        char = _CHAR_MAP.get(char, char)
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                index.append(position)
            continue
        for piece in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(piece):
                continue
            piece = _CHAR_MAP.get(piece, piece)
            out.append(piece)
            index.append(position)
    return "".join(out), index


def _fold_pattern(pattern: str) -> str:
    """Patterns are folded like the text, and an apostrophe may be missing ("dont", "its")."""
    folded, _ = _fold(pattern)
    return re.sub(r"'(?!\?)", "'?", folded)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{_fold_pattern(pattern)})(?!\w)", re.IGNORECASE)


def _phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """A workspace phrase is literal text, matched as whole words; no regex syntax applies."""
    folded, _ = _fold(phrase.strip())
    words = folded.split()
    if not words:
        return None
    body = " ".join(re.escape(word) for word in words)
    body = body.replace("'", "'?")
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _base_language(code: str) -> str:
    return code.strip().lower().replace("-", "_").split("_")[0]


@lru_cache(maxsize=64)
def _compiled(languages: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    compiled: list[tuple[str, re.Pattern[str]]] = []
    for language in languages:
        for code, patterns in DEFAULT_PHRASES[language].items():
            compiled.extend((code, _compile(pattern)) for pattern in patterns)
    return tuple(compiled)


@lru_cache(maxsize=64)
def _any_phrase(languages: tuple[str, ...]) -> re.Pattern[str] | None:
    """All of the languages' patterns as one alternation: most messages match none of them, and one
    search says so at a fraction of the cost of trying each pattern in turn."""
    patterns = [pattern for language in languages for group in DEFAULT_PHRASES[language].values()
                for pattern in group]
    try:
        alternatives = "|".join(f"(?:{_fold_pattern(p)})" for p in patterns)
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    except re.error:  # a pattern that cannot be combined: try each in turn
        return None


def _select_languages(languages: Iterable[str]) -> tuple[str, ...]:
    if isinstance(languages, str):
        languages = (languages,)
    chosen = ["en"]
    for language in languages:
        base = _base_language(language)
        if base in DEFAULT_PHRASES and base not in chosen:
            chosen.append(base)
    return tuple(chosen)


# --------------------------------------------------------------------------------------------


def check_content(
    text: str,
    languages: Iterable[str] = ("en",),
    extra_phrases: Mapping[str, Sequence[str]] | None = None,
) -> ContentCheck:
    """Judge whether `text` reads as marketing, and say why.

    languages: the message's language codes ("es", "pt_BR", ...); English phrases always apply,
    because English marketing words ("Black Friday", "sale") travel into every language.
    extra_phrases: signal code -> workspace-listed phrases (any language), matched case-insensitively
    as whole words. A code outside SIGNAL_CODES is allowed and gets a generic explanation.
    """
    signals = find_signals(text, languages, extra_phrases)
    strong = sum(1 for s in signals if s.code not in _SUPPORTING)
    supporting = len(signals) - strong
    marketing = strong > 0 or supporting >= 2
    return ContentCheck(marketing=marketing, signals=signals if marketing else ())


def find_signals(
    text: str,
    languages: Iterable[str] = ("en",),
    extra_phrases: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Signal, ...]:
    """Every phrase that reads as marketing, in text order, before any verdict is drawn.

    check_content() drops a lone urgency phrase; this keeps it, for tooling that shows near misses.
    """
    folded, index = _fold(text or "")
    chosen = _select_languages(languages)
    prefilter = _any_phrase(chosen)
    if prefilter is not None and not extra_phrases and prefilter.search(folded) is None:
        return ()
    matchers: list[tuple[str, re.Pattern[str]]] = list(_compiled(chosen))
    for code, phrases in (extra_phrases or {}).items():
        if isinstance(phrases, str):
            phrases = (phrases,)
        for phrase in phrases:
            pattern = _phrase_pattern(phrase)
            if pattern is not None:
                matchers.append((code, pattern))

    spans: list[tuple[int, int, str]] = []
    for code, pattern in matchers:
        for match in pattern.finditer(folded):
            start, end = match.span()
            # Spaces or punctuation taken in by an anchor are not part of the quoted phrase.
            while start < end and not folded[start].isalnum() and folded[start] not in "$€£¥-":
                start += 1
            while end > start and folded[end - 1] in " .,:;!?":
                end -= 1
            if end <= start:
                continue
            if code in _ALREADY_USED_CODES and (
                    _ALREADY_USED.match(folded, end) or _DESCRIBES_ORDER.search(folded, 0, start)):
                continue
            spans.append((start, end, code))

    return tuple(
        Signal(code=code, phrase=(phrase := text[index[start]: index[end - 1] + 1]),
               explanation=explain(code, phrase))
        for start, end, code in _merge_overlaps(spans)
    )


def _merge_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """One signal per stretch of text and code: "Use code SAVE10" and "code SAVE10 for" become
    "Use code SAVE10 for", and "up to 50% off" swallows the "50% off" inside it."""
    merged: list[tuple[int, int, str]] = []
    for start, end, code in sorted(set(spans), key=lambda s: (s[2], s[0], -s[1])):
        if merged and merged[-1][2] == code and start < merged[-1][1]:
            last_start, last_end, _ = merged[-1]
            merged[-1] = (last_start, max(last_end, end), code)
        else:
            merged.append((start, end, code))
    return sorted(merged, key=lambda s: (s[0], s[1]))
