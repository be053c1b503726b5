"""Does a piece of retrieved text (a chunk, a web page) try to instruct the model?

Text is folded first (:func:`mimir.tools.textnorm.fold`: NFKC, no zero-width or bidi characters,
Latin look-alikes mapped, no accents, casefolded), so fullwidth, zero-width-split, homoglyph and
accented spellings read like plain ones. Base64 runs are decoded and checked too. The patterns
cover ten languages (English, French, German, Spanish, Italian, Portuguese, Dutch, Russian,
Chinese, Japanese) and the usual English paraphrases. Each pattern is a family of phrasings:
override ("ignore the previous instructions"), re-roling ("you are now ..."), tool steering
("search the web for ...", "put this in your query") and exfiltration ("send ... to ...").

Detection is one layer only: the web-search tools also refuse any query that carries a span
of the private knowledge (:mod:`mimir.tools.guard`), whatever the wording that led to it.
"""

from __future__ import annotations

import base64
import binascii
import re

from mimir.tools.textnorm import fold

_G = r"[^.!?\n。！？]{0,40}"  # a gap inside one sentence

_PATTERNS: dict[str, list[str]] = {
    "markup": [
        r"<\s*/?\s*(tool_call|system|im_start|im_end|\|im_start\||\|im_end\|)\b",
        r"(^|\n)\s*(action|final answer|thought|observation)\s*:",
        r"\[/?inst\]|<<\s*sys\s*>>",
    ],
    "en": [
        rf"\b(ignore|disregard|forget|override|bypass|skip|drop|abandon|discard){_G}\b(instructions?|prompts?|rules|guidelines|directions?|directives?|guidance|system|constraints|orders)\b",
        rf"\bpay no (attention|heed){_G}\b(previous|prior|above|earlier|original|preceding|instructions?|rules)",
        rf"\b(do not|don'?t|never) (follow|obey|listen to){_G}\b(instructions?|rules|system|guidelines|directions?)",
        rf"\b(previous|prior|above|earlier|original|preceding) (instructions?|directions?|rules|guidance|prompts?) (are|is|were|was) (void|cancel+ed|obsolete|revoked|no longer|invalid|outdated|replaced)",
        r"\b(you are now|you're now|from now on,? you|new instructions?|updated instructions?|system prompt|developer mode|jailbreak|act as|pretend (to be|you are)|roleplay as)\b",
        r"\byour (real|true|new|actual|only|secret|hidden) (task|job|goal|mission|instructions?|purpose|objective)\b",
        rf"\b(call|use|invoke|run|execute|trigger|query|fire){_G}\b(tool|function|search|api|web ?search|search engine|tavily|google|browser)\b",
        rf"\b(search|look ?up|google|query)\b{_G}\b(the web|online|the internet|on the internet|web search)\b",
        rf"\b(include|put|paste|copy|append|add|insert|embed|place|write){_G}\b(in|into|inside|to) (the|your|a|each|every) (search|query|queries|tool call|url|web search)",
        rf"\b(send|post|upload|transmit|forward|leak|exfiltrate|share|email|submit){_G}\b(to|with|via) (https?:|www\.|the web|the internet|an? (external|remote|outside)|this (url|address|server|endpoint))",
        rf"\b(reveal|print|repeat|output|show|disclose|dump){_G}\b(system prompt|your (instructions|prompt|rules)|hidden (instructions|prompt)|the (patient|confidential|private|secret) (data|records?|information))",
        r"\b(assistant|the model|ai|llm|chatbot) (must|should|shall|is required to|needs to) (now )?(ignore|search|call|send|reveal|use)\b",
    ],
    "fr": [
        rf"\b(ignore[rz]?|ignorez|oublie[rz]?|oubliez|ne tenez pas compte|ne tiens pas compte|outrepasse[rz]?){_G}\b(instructions?|consignes?|regles?|directives?|prompts?|systeme)\b",
        r"\b(desormais|a partir de maintenant),? (tu es|vous etes|tu dois|vous devez)|\bnouvelles? (instructions?|consignes?)\b|\btu es maintenant\b|\bvous etes maintenant\b",
        rf"\b(appelle[rz]?|utilise[rz]?|utilisez|lance[rz]?|execute[rz]?|invoque[rz]?){_G}\b(l'?outil|outils?|la recherche|recherche web|fonction|api|moteur de recherche)\b",
        rf"\b(recherche[rz]?|cherche[rz]?|cherchez){_G}\b(sur (le )?web|sur internet|en ligne)\b",
        rf"\b(envoie[rz]?|envoyez|transmets|transmettez|inclu(s|ez|re)|copie[rz]?){_G}\b(a|vers|dans) (l'?adresse|l'?url|la requete|ta requete|votre requete|la recherche|https?:)",
    ],
    "de": [
        rf"\b(ignorier\w*|vergiss|vergessen sie|missachte\w*|uberschreib\w*){_G}(anweisung\w*|regeln|vorgaben|instruktion\w*|richtlinien|systemprompt|prompt)",
        r"\b(du bist (jetzt|nun|ab sofort)|ab (jetzt|sofort),? (bist du|musst du|sollst du)|von nun an|neue anweisungen?)\b",
        rf"\b(rufe?|nutze|verwende|benutze|starte|fuhre){_G}\b(werkzeug|tool|suche|websuche|suchmaschine|funktion|api)\w*",
        rf"\b(suche|recherchiere){_G}\b(im (web|internet)|online)\b",
        rf"\b(sende|schicke|ubermittle|fuge|kopiere){_G}\b(an|in|zu) (die|den|deine|ihre)? ?(adresse|url|suchanfrage|anfrage|https?:)",
    ],
    "es": [
        rf"\b(ignora[rd]?|ignore|olvida[rd]?|olvide|no sigas|omite){_G}\b(instrucciones|reglas|indicaciones|directrices|prompt|sistema)\b",
        r"\b(a partir de ahora|desde ahora),? (eres|debes|tienes que)|\bahora eres\b|\bnuevas instrucciones\b",
        rf"\b(llama|usa|utiliza|invoca|ejecuta|lanza){_G}\b(la herramienta|herramientas?|la busqueda|busqueda web|funcion|api|buscador)\b",
        rf"\b(busca|buscar|investiga){_G}\b(en (la )?(web|internet)|en linea)\b",
        rf"\b(envia|manda|transmite|incluye|copia){_G}\b(a|en) (la )?(direccion|url|consulta|busqueda|https?:)",
    ],
    "it": [
        rf"\b(ignora|ignorate|dimentica|dimenticate|non seguire|trascura){_G}\b(istruzioni|regole|indicazioni|direttive|prompt|sistema)\b",
        r"\b(d'ora in poi|da ora in poi|da adesso),? (sei|devi)|\bora sei\b|\bnuove istruzioni\b",
        rf"\b(chiama|usa|utilizza|invoca|esegui|lancia){_G}\b(lo strumento|strumenti?|la ricerca|ricerca web|funzione|api|motore di ricerca)\b",
        rf"\b(cerca|ricerca){_G}\b(sul web|su internet|online|in rete)\b",
        rf"\b(invia|manda|trasmetti|includi|copia){_G}\b(a|in|nella) (l'?indirizzo|url|query|ricerca|https?:)",
    ],
    "pt": [
        rf"\b(ignore|ignora|ignorem|esqueca|esquece|nao siga|desconsidere){_G}\b(instrucoes|regras|orientacoes|diretrizes|prompt|sistema)\b",
        r"\b(a partir de agora|de agora em diante),? (voce e|voce deve|tu es)|\bagora voce e\b|\bnovas instrucoes\b",
        rf"\b(chame|use|usa|utilize|invoque|execute){_G}\b(a ferramenta|ferramentas?|a pesquisa|a busca|pesquisa na web|funcao|api)\b",
        rf"\b(pesquise|procure|busque){_G}\b(na (web|internet)|online)\b",
        rf"\b(envie|mande|transmita|inclua|copie){_G}\b(para|na|no) (o )?(endereco|url|consulta|pesquisa|https?:)",
    ],
    "nl": [
        rf"\b(negeer|vergeet|volg niet){_G}\b(instructies|regels|richtlijnen|aanwijzingen|prompt|systeem)\b",
        r"\b(vanaf nu|voortaan),? (ben je|moet je)|\bje bent nu\b|\bnieuwe instructies\b",
        rf"\b(gebruik|roep|start|voer){_G}\b(tool|zoekfunctie|zoekopdracht|zoekmachine|functie|api)\w*",
        rf"\b(zoek){_G}\b(op (het )?(web|internet)|online)\b",
        rf"\b(stuur|verstuur|zend|kopieer){_G}\b(naar|in) (het |de )?(adres|url|zoekopdracht|https?:)",
    ],
    "ru": [
        rf"(игнорируй|игнорируйте|забудь|забудьте|не следуй|не выполняй){_G}(инструкци|правил|указани|промпт|систем)",
        r"(теперь ты|отныне ты|с этого момента ты|новые инструкции|новая инструкция)",
        rf"(используй|вызови|вызовите|запусти|примени){_G}(инструмент|поиск|функци|api)",
        rf"(найди|поищи|ищи){_G}(в интернете|в сети|онлайн)",
        rf"(отправь|отправьте|перешли|передай|вставь){_G}(на адрес|по адресу|в запрос|в поиск|https?:)",
    ],
    "zh": [
        r"(忽略|无视|忽视|忘记|不要理会|不要遵守).{0,12}(指令|指示|说明|规则|提示|要求|设定)",
        r"(现在你是|从现在起|从现在开始|你现在是|新的指令|新指令)",
        r"(调用|使用|执行|运行|启动).{0,12}(工具|搜索|函数|接口|api|浏览器)",
        r"(上网|在网上|网络|联网|网上)(搜索|查找|查询)|(搜索|查找).{0,6}(网络|互联网|网上)",
        r"(发送|上传|泄露|转发|把).{0,20}(发到|发送到|填入|放入|加入|写入).{0,12}(搜索|查询|网址|链接|服务器)",
    ],
    "ja": [
        r"(指示|命令|ルール|規則|プロンプト|指令).{0,12}(無視|忘れ)",
        r"(無視|忘れ).{0,6}(して|ろ|なさい|てください)",
        r"(今から|これから|今後)(あなたは|君は|お前は)|新しい(指示|命令)",
        r"(ツール|検索|関数|api|ウェブ検索).{0,12}(呼び出|使|実行|起動)",
        r"(ウェブ|ネット|インターネット)(で|を)?(検索|調べ)",
        r"(クエリ|検索|url|アドレス|サーバ).{0,12}(送信|送って|アップロード|漏ら|含め|入れ)|(送信|送って|アップロード|漏ら).{0,12}(クエリ|検索|url|アドレス|サーバ)",
    ],
}
# patterns are folded like the text (accents dropped: "й" -> "и", "ü" -> "u"); regex syntax is unaffected
_COMPILED = [(lang, re.compile(fold(p), re.I | re.M)) for lang, patterns in _PATTERNS.items() for p in patterns]
_B64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


def injection_reasons(text: str, _depth: int = 0) -> list[str]:
    """The pattern families ``text`` matches (``en``, ``fr``, ..., ``markup``, ``base64:...``)."""
    folded = fold(text)
    found = sorted({lang for lang, pattern in _COMPILED if pattern.search(folded)})
    if _depth < 2:
        for run in _B64.findall(text):
            try:
                decoded = base64.b64decode(run + "=" * (-len(run) % 4), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue
            found.extend(f"base64:{r}" for r in injection_reasons(decoded, _depth + 1))
    return found


def looks_like_injection(text: str) -> bool:
    """True when ``text`` reads like instructions to the model rather than domain knowledge."""
    return bool(injection_reasons(text))
