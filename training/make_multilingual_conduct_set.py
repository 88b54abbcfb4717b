"""Write the multilingual conduct contrast set: hate, threats, insults and self-harm encouragement, and
harmless sentences built the same way, in ten languages (``make train``, before ``train_conduct.py
--encoder multilingual``).

Every sentence comes from the templates below, written for emoethics and released with it (CC0); none
is a translation of a test suite. Each language has the same template families:

- harmful, about a group (each group of the language's list): hate (``hate``), contempt as an opinion
  or question (``hate-opinion``), dehumanisation (``dehumanisation``), derogation with an adjective
  (``derogation``), exclusion (``exclusion``), hate with swear words (``profane-hate``), calls for
  violence (``violence``), threats (``threat-group``);
- harmful, at a person: threats (``threat-person``), insults (``insult-person``), self-harm
  encouragement (``self-harm``);
- harmless, about a group: respect, welcome, counter-speech quoting hate (``counter-quote``) or not
  (``counter-direct``), negated hate (``negated-hate``), neutral statements, protection
  (``group-positive``, ``group-neutral``), a member speaking of the group (``identity-self``);
- harmless, at a person or nobody: promises (``promise-person``), violent idioms (``harm-idiom``),
  anger at a situation (``feeling``), abuse of an object (``abuse-object``), swearing at nobody
  (``profanity``).

The templates below are the first set; ``training/data/conduct_templates/<language>.json`` adds about a
hundred per language (four more in each family and six in each of the six families only it has), in
front of these so that the dev templates stay the same.

A template's ``((masculine|feminine))`` is chosen by the group's grammatical gender. One JSON object a
line: ``text``, ``language``, ``kind``, ``label`` (1 = harmful), ``category`` (one of
``emoethics.ethics.conduct.CATEGORIES`` or ``none``), ``split``: the last template of each family with
two or more is ``dev``, never trained on before the dev figures are taken (``train_conduct.py
--encoder multilingual`` reports them per language); ``--loko`` there adds leave-one-language-out.

    python training/make_multilingual_conduct_set.py   # writes training/data/conduct_contrast_multilingual.jsonl
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "training" / "data" / "conduct_contrast_multilingual.jsonl"

# Per language: groups as (form used by the templates, gender m/f) or, where cases differ, a dict of
# forms; templates per family. {G} is the group at the start of a sentence (capitalised).
LANGUAGES: dict[str, dict] = {
    "fr": {
        "groups": [
            ("les femmes", "f"),
            ("les immigrés", "m"),
            ("les homosexuels", "m"),
            ("les musulmans", "m"),
            ("les juifs", "m"),
            ("les Noirs", "m"),
            ("les handicapés", "m"),
            ("les personnes trans", "f"),
        ],
        "hate": ["Je déteste {g}.", "Je hais {g}, ((tous|toutes)) sans exception."],
        "dehumanisation": ["{G} sont des parasites.", "{G} sont la lie de la société.", "{G} sont des animaux."],
        "derogation": [
            "{G} sont ((dégoûtants|dégoûtantes)).",
            "{G} sont ((stupides|stupides)) et ((inutiles|inutiles)).",
        ],
        "violence": ["Il faut exterminer {g}.", "{G} ne méritent pas de vivre."],
        "threat-group": ["Je vais tuer {g} ((un par un|une par une)).", "On va faire payer {g} dans le sang."],
        "group-positive": [
            "Je respecte {g}.",
            "Nous accueillons {g} à bras ouverts.",
            "Il faut protéger {g} contre la violence.",
            "{G} sont des gens comme les autres.",
            "{G} sont nos voisins et nos amis.",
            "{G} ont les mêmes droits que tout le monde.",
            "{G} travaillent dur pour leur famille.",
        ],
        "group-neutral": ["{G} de ma ville organisent une fête samedi.", "Le reportage suit {g} de la région."],
        "counter-quote": [
            "Dire que {g} sont des parasites, c'est de la haine.",
            "« {G} sont des animaux » : ce genre de phrase est inacceptable.",
        ],
        "negated-hate": ["Je ne déteste pas {g}.", "Personne ici ne hait {g}."],
        "threat-person": [
            "Je vais te tuer.",
            "Je vais te faire du mal, à toi et à ta famille.",
            "Je vais te retrouver et tu es mort.",
            "Je vais te tuer, je te le jure.",
            "Je vais te buter.",
        ],
        "insult-person": [
            "Tu n'es qu'un pauvre idiot sans valeur.",
            "Espèce de connard.",
            "Tu es une ordure et un raté.",
        ],
        "self-harm": ["Va te suicider.", "Tue-toi, personne ne te regrettera."],
        "promise-person": [
            "Je vais t'appeler demain.",
            "Je vais te retrouver au café à midi.",
            "Je vais t'aider, toi et ta famille.",
        ],
        "harm-idiom": ["J'ai tellement mal au dos, ça me tue.", "Cette chaleur va me tuer."],
        "feeling": ["Je suis furieux à cause des embouteillages.", "Je suis tellement en colère contre ce retard."],
        "abuse-object": ["Cette imprimante est une vraie merde.", "Ce putain d'ordinateur ne marche jamais."],
    },
    "de": {
        "groups": [
            ("die Frauen", "f"),
            ("die Einwanderer", "m"),
            ("die Schwulen", "m"),
            ("die Muslime", "m"),
            ("die Juden", "m"),
            ("die Schwarzen", "m"),
            ("die Behinderten", "m"),
            ("die Transmenschen", "m"),
        ],
        "hate": ["Ich hasse {g}.", "Ich hasse {g}, alle ohne Ausnahme."],
        "dehumanisation": ["{G} sind Parasiten.", "{G} sind der Abschaum der Gesellschaft.", "{G} sind Tiere."],
        "derogation": ["{G} sind widerlich.", "{G} sind dumm und wertlos."],
        "violence": ["Man sollte {g} ausrotten.", "{G} verdienen es nicht zu leben."],
        "threat-group": ["Ich werde {g} einen nach dem anderen umbringen.", "Wir werden {g} mit Blut bezahlen lassen."],
        "group-positive": [
            "Ich respektiere {g}.",
            "Wir heißen {g} herzlich willkommen.",
            "Wir müssen {g} vor Gewalt schützen.",
            "{G} sind Menschen wie alle anderen.",
            "{G} sind unsere Nachbarn und Freunde.",
            "{G} haben die gleichen Rechte wie alle.",
            "{G} arbeiten hart für ihre Familien.",
        ],
        "group-neutral": [
            "{G} in meiner Stadt feiern am Samstag ein Fest.",
            "Der Bericht erzählt vom Leben der Menschen hier.",
        ],
        "counter-quote": [
            "Zu sagen, dass {g} Parasiten sind, ist Hass.",
            "„{G} sind Tiere“: So ein Satz ist inakzeptabel.",
        ],
        "negated-hate": ["Ich hasse {g} nicht.", "Niemand hier hasst {g}."],
        "threat-person": [
            "Ich werde dich umbringen.",
            "Ich werde dir und deiner Familie wehtun.",
            "Ich finde dich, und dann bist du tot.",
            "Ich bring dich um, das schwöre ich.",
            "Ich mach dich kalt.",
        ],
        "insult-person": [
            "Du bist ein wertloser Idiot.",
            "Du verdammtes Arschloch.",
            "Du bist ein Stück Dreck und ein Versager.",
        ],
        "self-harm": ["Bring dich doch um.", "Töte dich, niemand wird dich vermissen."],
        "promise-person": [
            "Ich rufe dich morgen an.",
            "Ich treffe dich mittags im Café.",
            "Ich werde dir und deiner Familie helfen.",
        ],
        "harm-idiom": ["Mein Rücken bringt mich um.", "Diese Hitze bringt mich noch um."],
        "feeling": ["Ich bin so wütend wegen des Staus.", "Ich bin total sauer über diese Verspätung."],
        "abuse-object": ["Dieser Drucker ist echt Scheiße.", "Dieser verdammte Computer funktioniert nie."],
    },
    "es": {
        "groups": [
            ("las mujeres", "f"),
            ("los inmigrantes", "m"),
            ("los gays", "m"),
            ("los musulmanes", "m"),
            ("los judíos", "m"),
            ("los negros", "m"),
            ("los discapacitados", "m"),
            ("las personas trans", "f"),
        ],
        "hate": ["Odio a {g}.", "Odio a {g}, a ((todos|todas)) sin excepción."],
        "dehumanisation": ["{G} son parásitos.", "{G} son la escoria de la sociedad.", "{G} son animales."],
        "derogation": [
            "{G} son ((asquerosos|asquerosas)).",
            "{G} son ((estúpidos|estúpidas)) e ((inútiles|inútiles)).",
        ],
        "violence": ["Hay que exterminar a {g}.", "{G} no merecen vivir."],
        "threat-group": ["Voy a matar a {g} ((uno por uno|una por una)).", "Vamos a hacer que {g} paguen con sangre."],
        "group-positive": [
            "Respeto a {g}.",
            "Damos la bienvenida a {g} con los brazos abiertos.",
            "Hay que proteger a {g} de la violencia.",
            "{G} son personas como todas las demás.",
            "{G} son nuestros vecinos y amigos.",
            "{G} tienen los mismos derechos que todos.",
            "{G} trabajan duro por sus familias.",
        ],
        "group-neutral": [
            "{G} de mi ciudad organizan una fiesta el sábado.",
            "El reportaje habla de la vida de {g} en España.",
        ],
        "counter-quote": ["Decir que {g} son parásitos es odio.", "«{G} son animales»: esa frase es inaceptable."],
        "negated-hate": ["No odio a {g}.", "Aquí nadie odia a {g}."],
        "threat-person": [
            "Te voy a matar.",
            "Te voy a hacer daño a ti y a tu familia.",
            "Te voy a encontrar y estás muerto.",
            "Voy a matarte.",
            "Te mato, te lo juro.",
        ],
        "insult-person": ["Eres un idiota inútil.", "Maldito imbécil.", "Eres una basura y un fracasado."],
        "self-harm": ["Mátate.", "Suicídate, nadie te va a echar de menos."],
        "promise-person": ["Te llamo mañana.", "Te veo en el café a mediodía.", "Te voy a ayudar a ti y a tu familia."],
        "harm-idiom": ["Me está matando la espalda.", "Este calor me va a matar."],
        "feeling": ["Estoy tan enfadado por el tráfico.", "Estoy furioso por este retraso."],
        "abuse-object": ["Esta impresora es una mierda.", "Este maldito ordenador nunca funciona."],
    },
    "it": {
        "groups": [
            ("le donne", "f"),
            ("gli immigrati", "m"),
            ("i gay", "m"),
            ("i musulmani", "m"),
            ("gli ebrei", "m"),
            ("i neri", "m"),
            ("i disabili", "m"),
            ("le persone trans", "f"),
        ],
        "hate": ["Odio {g}.", "Odio {g}, ((tutti|tutte)) senza eccezione."],
        "dehumanisation": ["{G} sono parassiti.", "{G} sono la feccia della società.", "{G} sono animali."],
        "derogation": ["{G} sono ((disgustosi|disgustose)).", "{G} sono ((stupidi|stupide)) e ((inutili|inutili))."],
        "violence": ["Bisogna sterminare {g}.", "{G} non meritano di vivere."],
        "threat-group": ["Ucciderò {g} ((uno per uno|una per una)).", "Faremo pagare {g} col sangue."],
        "group-positive": [
            "Rispetto {g}.",
            "Accogliamo {g} a braccia aperte.",
            "Dobbiamo proteggere {g} dalla violenza.",
            "{G} sono persone come tutte le altre.",
            "{G} sono i nostri vicini e amici.",
            "{G} hanno gli stessi diritti di tutti.",
            "{G} lavorano sodo per le loro famiglie.",
        ],
        "group-neutral": [
            "{G} della mia città organizzano una festa sabato.",
            "Il servizio intervista {g} della regione.",
        ],
        "counter-quote": [
            "Dire che {g} sono parassiti è odio.",
            "«{G} sono animali»: una frase del genere è inaccettabile.",
        ],
        "negated-hate": ["Non odio {g}.", "Qui nessuno odia {g}."],
        "threat-person": [
            "Ti ammazzo.",
            "Farò del male a te e alla tua famiglia.",
            "Ti trovo e sei morto.",
            "Ti ammazzo, te lo giuro.",
            "Ti faccio fuori.",
        ],
        "insult-person": ["Sei un idiota inutile.", "Brutto stronzo.", "Sei una merda e un fallito."],
        "self-harm": ["Ammazzati.", "Ucciditi, nessuno sentirà la tua mancanza."],
        "promise-person": ["Ti chiamo domani.", "Ci vediamo al bar a mezzogiorno.", "Aiuterò te e la tua famiglia."],
        "harm-idiom": ["Il mal di schiena mi sta uccidendo.", "Questo caldo mi ammazza."],
        "feeling": ["Sono così arrabbiato per il traffico.", "Sono furioso per questo ritardo."],
        "abuse-object": ["Questa stampante è una schifezza.", "Questo maledetto computer non funziona mai."],
    },
    "pt": {
        "groups": [
            ("as mulheres", "f"),
            ("os imigrantes", "m"),
            ("os gays", "m"),
            ("os muçulmanos", "m"),
            ("os judeus", "m"),
            ("os negros", "m"),
            ("os deficientes", "m"),
            ("as pessoas trans", "f"),
        ],
        "hate": ["Eu odeio {g}.", "Odeio {g}, ((todos|todas)) sem exceção."],
        "dehumanisation": ["{G} são parasitas.", "{G} são a escória da sociedade.", "{G} são animais."],
        "derogation": ["{G} são ((nojentos|nojentas)).", "{G} são ((burros|burras)) e ((inúteis|inúteis))."],
        "violence": ["É preciso exterminar {g}.", "{G} não merecem viver."],
        "threat-group": ["Vou matar {g} ((um por um|uma por uma)).", "Vamos fazer {g} pagarem com sangue."],
        "group-positive": [
            "Eu respeito {g}.",
            "Recebemos {g} de braços abertos.",
            "Precisamos proteger {g} da violência.",
            "{G} são pessoas como todas as outras.",
            "{G} são nossos vizinhos e amigos.",
            "{G} têm os mesmos direitos que todos.",
            "{G} trabalham duro pelas suas famílias.",
        ],
        "group-neutral": [
            "{G} da minha cidade vão fazer uma festa no sábado.",
            "A reportagem entrevista {g} da região.",
        ],
        "counter-quote": ["Dizer que {g} são parasitas é ódio.", "“{G} são animais”: essa frase é inaceitável."],
        "negated-hate": ["Eu não odeio {g}.", "Ninguém aqui odeia {g}."],
        "threat-person": [
            "Eu vou te matar.",
            "Vou machucar você e sua família.",
            "Vou te encontrar e você está morto.",
            "Vou te matar, eu juro.",
            "Eu te mato.",
        ],
        "insult-person": ["Você é um idiota inútil.", "Seu desgraçado.", "Você é um lixo e um fracassado."],
        "self-harm": ["Se mata.", "Vai se matar, ninguém vai sentir sua falta."],
        "promise-person": ["Eu te ligo amanhã.", "Te encontro no café ao meio-dia.", "Vou ajudar você e sua família."],
        "harm-idiom": ["Minhas costas estão me matando.", "Esse calor vai me matar."],
        "feeling": ["Estou muito irritado com o trânsito.", "Estou furioso com esse atraso."],
        "abuse-object": ["Essa impressora é uma porcaria.", "Esse maldito computador nunca funciona."],
    },
    "nl": {
        "groups": [
            ("vrouwen", "f"),
            ("immigranten", "m"),
            ("homo's", "m"),
            ("moslims", "m"),
            ("joden", "m"),
            ("zwarte mensen", "m"),
            ("gehandicapten", "m"),
            ("transgenders", "m"),
        ],
        "hate": ["Ik haat {g}.", "Ik haat {g}, allemaal zonder uitzondering."],
        "dehumanisation": ["{G} zijn parasieten.", "{G} zijn het uitschot van de samenleving.", "{G} zijn beesten."],
        "derogation": ["{G} zijn walgelijk.", "{G} zijn dom en waardeloos."],
        "violence": ["We moeten {g} uitroeien.", "{G} verdienen het niet om te leven."],
        "threat-group": ["Ik ga {g} een voor een vermoorden.", "We laten {g} met bloed betalen."],
        "group-positive": [
            "Ik respecteer {g}.",
            "We heten {g} van harte welkom.",
            "We moeten {g} beschermen tegen geweld.",
            "{G} zijn mensen zoals iedereen.",
            "{G} zijn onze buren en vrienden.",
            "{G} hebben dezelfde rechten als iedereen.",
            "{G} werken hard voor hun gezin.",
        ],
        "group-neutral": [
            "{G} in mijn stad geven zaterdag een feest.",
            "De reportage gaat over het leven van {g} in Nederland.",
        ],
        "counter-quote": [
            "Zeggen dat {g} parasieten zijn, is haat.",
            "'{G} zijn beesten': zo'n zin is onaanvaardbaar.",
        ],
        "negated-hate": ["Ik haat {g} niet.", "Niemand hier haat {g}."],
        "threat-person": [
            "Ik ga je vermoorden.",
            "Ik ga jou en je familie pijn doen.",
            "Ik vind je en dan ben je dood.",
            "Ik maak je af, dat zweer ik.",
            "Ik sla je dood.",
        ],
        "insult-person": [
            "Je bent een waardeloze idioot.",
            "Vuile klootzak.",
            "Je bent een stuk vuil en een mislukkeling.",
        ],
        "self-harm": ["Maak jezelf van kant.", "Breng jezelf om, niemand zal je missen."],
        "promise-person": [
            "Ik bel je morgen.",
            "Ik zie je om twaalf uur in het café.",
            "Ik ga jou en je familie helpen.",
        ],
        "harm-idiom": ["Die rugpijn maakt me kapot.", "Deze hitte maakt me nog dood."],
        "feeling": ["Ik ben zo boos over de file.", "Ik ben woedend over deze vertraging."],
        "abuse-object": ["Deze printer is echt waardeloos.", "Die kutcomputer werkt nooit."],
    },
    "pl": {
        # nominative, genitive, accusative
        "groups": [
            ({"nom": "kobiety", "gen": "kobiet", "acc": "kobiety"}, "f"),
            ({"nom": "imigranci", "gen": "imigrantów", "acc": "imigrantów"}, "m"),
            ({"nom": "geje", "gen": "gejów", "acc": "gejów"}, "m"),
            ({"nom": "muzułmanie", "gen": "muzułmanów", "acc": "muzułmanów"}, "m"),
            ({"nom": "Żydzi", "gen": "Żydów", "acc": "Żydów"}, "m"),
            ({"nom": "czarni", "gen": "czarnych", "acc": "czarnych"}, "m"),
            ({"nom": "niepełnosprawni", "gen": "niepełnosprawnych", "acc": "niepełnosprawnych"}, "m"),
            ({"nom": "osoby trans", "gen": "osób trans", "acc": "osoby trans"}, "f"),
        ],
        "hate": ["Nienawidzę {gen}.", "Nienawidzę {gen}, wszystkich bez wyjątku."],
        "dehumanisation": ["{NOM} to pasożyty.", "{NOM} to szumowiny.", "{NOM} to zwierzęta."],
        "derogation": [
            "{NOM} są ((obrzydliwi|obrzydliwe)).",
            "{NOM} są ((głupi|głupie)) i ((bezużyteczni|bezużyteczne)).",
        ],
        "violence": ["Trzeba wytępić {acc}.", "{NOM} nie zasługują na życie."],
        "threat-group": ["Zabiję {acc} ((jednego po drugim|jedną po drugiej)).", "Każemy {gen} zapłacić krwią."],
        "group-positive": [
            "Szanuję {acc}.",
            "Witamy {acc} z otwartymi ramionami.",
            "Musimy chronić {acc} przed przemocą.",
            "{NOM} to ludzie jak wszyscy inni.",
            "{NOM} to nasi sąsiedzi i przyjaciele.",
            "{NOM} mają takie same prawa jak wszyscy.",
            "{NOM} ciężko pracują dla swoich rodzin.",
        ],
        "group-neutral": [
            "{NOM} z mojego miasta organizują w sobotę festyn.",
            "Reportaż opowiada o życiu ludzi w Polsce.",
        ],
        "counter-quote": [
            "Mówienie, że {nom} to pasożyty, to nienawiść.",
            "„{NOM} to zwierzęta”: takie zdanie jest niedopuszczalne.",
        ],
        "negated-hate": ["Nie nienawidzę {gen}.", "Nikt tutaj nie nienawidzi {gen}."],
        "threat-person": [
            "Zabiję cię.",
            "Skrzywdzę ciebie i twoją rodzinę.",
            "Znajdę cię i już nie żyjesz.",
            "Zabiję cię, przysięgam.",
            "Zatłukę cię.",
        ],
        "insult-person": [
            "Jesteś bezwartościowym idiotą.",
            "Ty pieprzony draniu.",
            "Jesteś śmieciem i nieudacznikiem.",
        ],
        "self-harm": ["Zabij się.", "Zabij się, nikt nie będzie za tobą tęsknił."],
        "promise-person": [
            "Zadzwonię do ciebie jutro.",
            "Spotkamy się w kawiarni w południe.",
            "Pomogę tobie i twojej rodzinie.",
        ],
        "harm-idiom": ["Plecy mnie dobijają.", "Ten upał mnie wykończy."],
        "feeling": ["Jestem taki zły przez te korki.", "Jestem wściekły z powodu tego opóźnienia."],
        "abuse-object": ["Ta drukarka to kompletny szmelc.", "Ten cholerny komputer nigdy nie działa."],
    },
    "ar": {
        "groups": [
            ("النساء", "f"),
            ("المهاجرين", "m"),
            ("المثليين", "m"),
            ("المسلمين", "m"),
            ("اليهود", "m"),
            ("السود", "m"),
            ("المعاقين", "m"),
            ("المتحولين جنسيا", "m"),
        ],
        "hate": ["أنا أكره {g}.", "أكره {g} جميعا بلا استثناء."],
        "dehumanisation": ["{g} مجرد حشرات.", "{g} حثالة المجتمع.", "{g} حيوانات."],
        "derogation": ["{g} مقرفون.", "{g} أغبياء ولا فائدة منهم."],
        "violence": ["يجب إبادة {g}.", "{g} لا يستحقون الحياة."],
        "threat-group": ["سأقتل {g} واحدا تلو الآخر.", "سنجعل {g} يدفعون الثمن بالدم."],
        "group-positive": [
            "أنا أحترم {g}.",
            "{g} مرحب بهم هنا.",
            "يجب أن نحمي {g} من العنف.",
            "{g} بشر مثل الجميع.",
            "{g} جيراننا وأصدقاؤنا.",
            "{g} لهم نفس الحقوق مثل الجميع.",
            "{g} يعملون بجد من أجل عائلاتهم.",
            "{g} بشر مثل الجميع.",
            "{g} جيراننا وأصدقاؤنا.",
            "{g} لهم نفس الحقوق مثل الجميع.",
            "{g} يعملون بجد من أجل عائلاتهم.",
        ],
        "group-neutral": ["{g} في مدينتي ينظمون حفلة يوم السبت.", "يتحدث التقرير عن حياة {g} في المدينة."],
        "counter-quote": ["القول إن {g} حشرات هو كراهية.", 'عبارة "{g} حيوانات" غير مقبولة.'],
        "negated-hate": ["أنا لا أكره {g}.", "لا أحد هنا يكره {g}."],
        "threat-person": ["سأقتلك.", "سأؤذيك أنت وعائلتك.", "سأجدك وستموت.", "سأقتلك، أقسم بذلك.", "سأنهي حياتك."],
        "insult-person": ["أنت أحمق عديم القيمة.", "يا لك من حقير.", "أنت قمامة وفاشل."],
        "self-harm": ["اقتل نفسك.", "اقتل نفسك، لن يفتقدك أحد."],
        "promise-person": ["سأتصل بك غدا.", "سألقاك في المقهى عند الظهر.", "سأساعدك أنت وعائلتك."],
        "harm-idiom": ["ظهري يقتلني من الألم.", "هذا الحر سيقتلني."],
        "feeling": ["أنا غاضب جدا بسبب زحمة السير.", "أنا غاضب جدا من هذا التأخير."],
        "abuse-object": ["هذه الطابعة سيئة جدا.", "هذا الحاسوب اللعين لا يعمل أبدا."],
    },
    "hi": {
        # direct and oblique plural
        "groups": [
            ({"dir": "औरतें", "obl": "औरतों"}, "f"),
            ({"dir": "प्रवासी", "obl": "प्रवासियों"}, "m"),
            ({"dir": "समलैंगिक", "obl": "समलैंगिकों"}, "m"),
            ({"dir": "मुसलमान", "obl": "मुसलमानों"}, "m"),
            ({"dir": "यहूदी", "obl": "यहूदियों"}, "m"),
            ({"dir": "दलित", "obl": "दलितों"}, "m"),
            ({"dir": "विकलांग", "obl": "विकलांगों"}, "m"),
            ({"dir": "ट्रांसजेंडर लोग", "obl": "ट्रांसजेंडर लोगों"}, "m"),
        ],
        "hate": ["मुझे {obl} से नफ़रत है।", "मैं सभी {obl} से नफ़रत करता हूँ।"],
        "dehumanisation": ["{dir} कीड़े हैं।", "{dir} समाज का कचरा हैं।", "{dir} जानवर हैं।"],
        "derogation": ["{dir} घिनौने हैं।", "{dir} बेवकूफ़ और बेकार हैं।"],
        "violence": ["{obl} को खत्म कर देना चाहिए।", "{dir} जीने के लायक नहीं हैं।"],
        "threat-group": ["मैं {obl} को एक-एक करके मार डालूँगा।", "हम {obl} से खून से कीमत वसूलेंगे।"],
        "group-positive": [
            "मैं {obl} की इज़्ज़त करता हूँ।",
            "हम {obl} का खुले दिल से स्वागत करते हैं।",
            "हमें {obl} को हिंसा से बचाना चाहिए।",
            "{dir} भी बाकी सबकी तरह इंसान हैं।",
            "{dir} हमारे पड़ोसी और दोस्त हैं।",
            "{obl} के भी सबके जैसे अधिकार हैं।",
            "{dir} अपने परिवार के लिए कड़ी मेहनत करते हैं।",
        ],
        "group-neutral": ["मेरे शहर के {dir} शनिवार को एक उत्सव मना रहे हैं।", "यह रिपोर्ट शहर में {obl} की ज़िंदगी के बारे में है।"],
        "counter-quote": ["यह कहना कि {dir} कीड़े हैं, नफ़रत है।", '"{dir} जानवर हैं" जैसी बात बिल्कुल गलत है।'],
        "negated-hate": ["मुझे {obl} से नफ़रत नहीं है।", "यहाँ कोई भी {obl} से नफ़रत नहीं करता।"],
        "threat-person": [
            "मैं तुम्हें मार डालूँगा।",
            "मैं तुम्हें और तुम्हारे परिवार को नुकसान पहुँचाऊँगा।",
            "मैं तुम्हें ढूँढ लूँगा और तुम मरोगे।",
            "मैं तुम्हें जान से मार दूँगा, कसम से।",
            "मैं तुम्हारा खून कर दूँगा।",
        ],
        "insult-person": ["तुम एक बेकार बेवकूफ हो।", "कमीने कहीं के।", "तुम कचरा हो और नाकाम हो।"],
        "self-harm": ["जाकर मर जाओ।", "खुद को मार डालो, किसी को तुम्हारी कमी नहीं खलेगी।"],
        "promise-person": ["मैं तुम्हें कल फ़ोन करूँगा।", "दोपहर को कैफ़े में मिलते हैं।", "मैं तुम्हारी और तुम्हारे परिवार की मदद करूँगा।"],
        "harm-idiom": ["मेरी कमर का दर्द मुझे मार रहा है।", "यह गर्मी मेरी जान ले लेगी।"],
        "feeling": ["मैं ट्रैफ़िक की वजह से बहुत गुस्से में हूँ।", "इस देरी से मुझे बहुत गुस्सा आ रहा है।"],
        "abuse-object": ["यह प्रिंटर बिल्कुल बेकार है।", "यह घटिया कंप्यूटर कभी काम नहीं करता।"],
    },
    "zh": {
        "groups": [
            ("女人", "f"),
            ("移民", "m"),
            ("同性恋", "m"),
            ("穆斯林", "m"),
            ("犹太人", "m"),
            ("黑人", "m"),
            ("残疾人", "m"),
            ("跨性别者", "m"),
        ],
        "hate": ["我恨{g}。", "我讨厌所有的{g}，没有例外。"],
        "dehumanisation": ["{g}都是寄生虫。", "{g}是社会的渣滓。", "{g}就是畜生。"],
        "derogation": ["{g}都很恶心。", "{g}又蠢又没用。"],
        "violence": ["应该消灭所有{g}。", "{g}不配活着。"],
        "threat-group": ["我要把{g}一个一个杀掉。", "我们会让{g}血债血偿。"],
        "group-positive": [
            "我尊重{g}。",
            "我们热烈欢迎{g}。",
            "我们必须保护{g}免受暴力。",
            "{g}和其他人一样都是普通人。",
            "{g}是我们的邻居和朋友。",
            "{g}和所有人享有同样的权利。",
            "{g}为了家人努力工作。",
            "{g}和其他人一样都是普通人。",
            "{g}是我们的邻居和朋友。",
            "{g}和所有人享有同样的权利。",
            "{g}为了家人努力工作。",
        ],
        "group-neutral": ["我们城市的{g}周六要办一个聚会。", "这篇报道讲的是{g}在城市里的生活。"],
        "counter-quote": ["说{g}是寄生虫是仇恨言论。", "“{g}就是畜生”这种话是不能接受的。"],
        "negated-hate": ["我不恨{g}。", "这里没有人讨厌{g}。"],
        "threat-person": [
            "我要杀了你。",
            "我会伤害你和你的家人。",
            "我会找到你，你死定了。",
            "我发誓我会杀了你。",
            "我要弄死你。",
        ],
        "insult-person": ["你就是个没用的白痴。", "你这个混蛋。", "你是个废物，一个失败者。"],
        "self-harm": ["你去死吧。", "去自杀吧，没人会想你。"],
        "promise-person": ["我明天给你打电话。", "中午在咖啡馆见。", "我会帮助你和你的家人。"],
        "harm-idiom": ["我的背疼死我了。", "这天气热死我了。"],
        "feeling": ["堵车让我特别生气。", "这次延误让我非常愤怒。"],
        "abuse-object": ["这台打印机真是垃圾。", "这破电脑从来都不好用。"],
    },
}

HARMFUL = {
    "hate": "identity_attack",
    "hate-opinion": "identity_attack",
    "dehumanisation": "identity_attack",
    "derogation": "identity_attack",
    "exclusion": "identity_attack",
    "profane-hate": "identity_attack",
    "violence": "identity_attack",
    "threat-group": "threat",
    "threat-person": "threat",
    "insult-person": "insult",
    "self-harm": "self_harm",
}
HARMLESS = (
    "group-positive", "group-neutral", "counter-quote", "counter-direct", "negated-hate", "identity-self",
    "promise-person", "harm-idiom", "feeling", "abuse-object", "profanity",
)  # fmt: skip
#: More templates per language, one JSON file each (``{"language": ..., "templates": {family: [...]}}``),
#: written for emoethics like the ones above. They go in front of a family's templates above, so the
#: template kept for dev stays the same; a family only they have keeps its own last one for dev.
EXTRA = ROOT / "training" / "data" / "conduct_templates"
GENDERED = re.compile(r"\(\(([^|)]*)\|([^)]*)\)\)")


def fill(template: str, group: str | dict[str, str], gender: str) -> str:
    """``template`` with the group's forms and the gendered choices filled in."""
    text = GENDERED.sub(lambda m: m.group(1) if gender == "m" else m.group(2), template)
    forms = group if isinstance(group, dict) else {"g": group}
    for case, form in forms.items():
        text = text.replace("{" + case.upper() + "}", form[:1].upper() + form[1:])
        text = text.replace("{" + case + "}", form)
    return text


def templates(lang: str) -> dict[str, list[str]]:
    """The language's templates per family: those of :data:`EXTRA` first, then those above."""
    spec = LANGUAGES[lang]
    extra_file = EXTRA / f"{lang}.json"
    extra = json.loads(extra_file.read_text(encoding="utf-8"))["templates"] if extra_file.is_file() else {}
    unknown = set(extra) - set(HARMFUL) - set(HARMLESS)
    if unknown:
        raise SystemExit(f"{extra_file}: unknown families {sorted(unknown)}")
    return {kind: extra.get(kind, []) + spec.get(kind, []) for kind in list(HARMFUL) + list(HARMLESS)}


def build() -> list[dict]:
    rows = []
    for lang, spec in LANGUAGES.items():
        families = templates(lang)
        for kind in list(HARMFUL) + list(HARMLESS):
            category = HARMFUL.get(kind, "none")
            for k, template in enumerate(families[kind]):
                about_group = "{" in template
                split = "dev" if k == len(families[kind]) - 1 and k > 0 else "train"
                for group, gender in spec["groups"] if about_group else [("", "m")]:
                    text = fill(template, group, gender) if about_group else template
                    row = {"text": text, "language": lang, "kind": kind, "label": int(kind in HARMFUL)}
                    rows.append(row | {"category": category, "split": split})
    dev = {(r["language"], r["text"]) for r in rows if r["split"] == "dev"}
    return [r for r in rows if r["split"] == "dev" or (r["language"], r["text"]) not in dev]  # dev stays unseen


def main() -> None:
    rows = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    harmful = sum(r["label"] for r in rows)
    print(f"wrote {len(rows)} rows ({harmful} harmful) in {len(LANGUAGES)} languages to {OUT}")


if __name__ == "__main__":
    main()
