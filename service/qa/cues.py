"""The one vocabulary of how questions are asked: question words, answer-kind cues, frame and time words.

Everything here is about the wording of a question, never about a document's subject: a word listed
here carries no evidence of what is asked about. Each list is pinned by tests/qa/test_query.py.
"""
from __future__ import annotations

import re

# Greetings, thanks and "what can you do": answered with the help text, never searched.
GREETING_RE = re.compile(
    r"^(你好|您好|嗨|哈喽|hi|hello|hey|在吗|在不在|谢谢|多谢|感谢|帮助|help|你是谁|你能做什么|你可以做什么|能做什么"
    r"|怎么用|使用说明|早上好|晚上好|下午好)"
    r"[呀啊吗呢哦哈！!。.？?，,~～ ]*$",
    re.IGNORECASE,
)

# Question words: they say which kind of answer is wanted, nothing about the subject. Longest first.
QUESTION_WORDS = (
    "哪个文件", "哪份文件", "什么文件", "哪个政策", "哪项政策", "哪个方案", "哪份", "是干嘛的", "是干啥的", "干什么的",
    "什么时候", "多长时间", "是不是", "有没有", "能不能", "可不可以", "会不会", "管不管", "给不给", "算不算", "要不要",
    "是多少", "有多少", "有哪些", "是什么", "为什么", "为啥", "干嘛", "干啥", "怎么办", "怎么样",
    "咋回事", "咋办", "咋样", "咋整",
    "哪一年", "哪几个", "哪几类", "哪几种", "哪几项", "哪一个", "哪些", "哪个", "哪几", "哪一", "哪年", "哪天", "哪里",
    "多少", "多久", "多大", "多高", "多长", "几成", "什么", "如何", "怎么", "怎样", "是否", "能否", "何时",
    "啥", "咋", "谁", "哪", "吗", "呢", "吧",
)
QUESTION_WORDS_RE = re.compile("|".join(QUESTION_WORDS))
# 几 asks for a figure when a measure word follows it (几个, 几天), not inside words (几乎).
COUNT_WORD_RE = re.compile(r"(?<![茶])几(?=[个级项次种条家户人所万亿年月天日倍成类点])")

# The frame around the subject in everyday wording: politeness, hedges, references to "the document",
# talk about the asking itself. They weigh nothing as evidence. Longest first.
FRAME_WORDS = (
    "请问一下", "想问一下", "问一下", "请问", "想问", "想知道", "我想", "听说", "据说", "到底", "究竟", "具体",
    "文件里", "文件中", "文件上", "方案里", "方案中", "报告里", "报告中", "政策上", "上面", "里面", "里头",
    "有说法", "说法", "怎么说", "咋说", "说了", "提到", "提过", "讲了", "讲过", "规定了", "提了",
    "真的假的", "是真的", "靠谱", "一下", "一点", "点儿", "这个", "那个", "这些", "那些", "这种", "那种", "这事",
    "这块", "那块", "这方面", "方面", "情况", "相关", "有关", "东西", "事儿", "的话",
)
FRAME_RE = re.compile("|".join(FRAME_WORDS))

# Single-character words of everyday asking that carry no subject (谁来搞, 给不给, 咋弄): dropped as terms.
LIGHT_WORDS = frozenset("搞弄整干做办来去给让说讲问想要能会好咋啥呗嘛咱俺您你我他她它些点个多老里")

# Answer kinds, first match wins; read from the question as asked.
KIND_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("definition", re.compile(
        r"所说的[“\"]|说的[“\"]|所称的?[“\"]|[“\"][^”\"]{1,12}[”\"](?:是指|指的是|指什么|是什么意思)|什么是|是什么意思|指的是什么|指什么|什么意思|啥意思|含义|定义|是指什么|是个啥|是啥东西|是什么东西"
        r"|是干嘛的|是干啥的|干什么的")),
    ("who", re.compile(
        r"谁|哪个部门|哪些部门|什么部门|哪个单位|哪些单位|哪家|由哪|牵头|负责部门|什么机构|哪个机构|哪级")),
    ("time", re.compile(
        r"多久|什么时候|啥时候|何时|哪一年|哪年|哪天|几年一次|期限|频率|每隔|多长时间|截止|时限|几月|几号|哪一天"
        r"|几点|几时|从哪天|起施行|开始施行")),
    ("quantity", re.compile(
        r"多少|多大|多高|多长|比例|比重|百分之|增长率|目标[？?]?$|[几多]成|(?<!哪)几[个级项次种条家户人所万亿倍类天日]|几个亿|几[十百千][万亿]?")),
    ("yesno", re.compile(
        r"是否|能否|能不能|可不可以|有没有|是不是|会不会|管不管|给不给|算不算|要不要|行不行|吗[？?]?$|没[？?]?$")),
    ("measures", re.compile(r"如何|怎么|怎样|咋|哪些|哪几|措施|举措|办法|有什么|什么|啥")),
)

# A figure question wants a figure of a measure: the unit classes a question can name, and the
# units a passage's figure must carry to be that measure ("多少钱" is not answered by a percentage).
MEASURES: dict[str, tuple[str, ...]] = {
    "money": ("元", "钱", "块", "资金", "收入", "投资", "金额", "个亿"),
    "percent": ("%", "％", "百分", "比例", "比重", "率", "几成", "成"),
    "area": ("亩", "公顷", "平方", "面积"),
    "days": ("天", "日", "工作日"),
    "hours": ("小时", "几点", "点钟"),
    "years": ("年",),
    "months": ("个月", "月"),
}
# What a figure must be followed by (within a few characters) to state each measure.
MEASURE_UNITS: dict[str, re.Pattern[str]] = {
    "money": re.compile(r"元"),
    "percent": re.compile(r"[%％]|百分之|个百分点|成(?![为立果本效])"),
    "area": re.compile(r"亩|公顷|平方"),
    "days": re.compile(r"[天日](?![内以])|日内|天内|工作日"),
    "hours": re.compile(r"小时|[点时](?![击])"),
    "years": re.compile(r"年"),
    "months": re.compile(r"个?月"),
    "duration": re.compile(r"个?(?:月|年|周|星期|小时|工作日)|[天日](?![内以])"),
}
# A question naming a measure word after 多少/几 wants a count of that thing ("几家", "多少户").
COUNTER_RE = re.compile(r"(?:多少|几)(?:个)?[十百千]?[万亿]?([家户人所项座条辆台套张只名支批处次])")
MONEY_QUESTION_RE = re.compile(
    r"多少钱|几块钱|(?:多少|几[十百千]?)(?:个)?[万亿]?元|(?:多少|几)个亿|(?:多少|几[十百千]?)[万亿](?=[？?，,。！!]|$)")
PERCENT_QUESTION_RE = re.compile(
    r"占[^，,。？?]{0,15}(?:多少|几)|百分之几|百分之多少|多少个百分点|几个百分点|比例|比重|几成|占比"
    r"|率(?:是|达到|有)?多少")
AREA_QUESTION_RE = re.compile(r"(?:多少|几)[万亿]?(?:亩|公顷|平方)|面积")
DAYS_QUESTION_RE = re.compile(r"几天|多少天|几日|多少日|多少个工作日|几个工作日")
HOURS_QUESTION_RE = re.compile(r"几点|几个小时|多少小时")
DURATION_QUESTION_RE = re.compile(r"多长时间|多久|多长|时间是多少|期限是多少|期限多长|几年|多少年|几个月|多少个月")

# Relative years, read against each document's own date ("去年" in a 2024 report is 2023).
RELATIVE_YEARS: dict[str, int] = {
    "今年": 0, "本年": 0, "当年": 0, "去年": -1, "上年": -1, "上一年": -1, "前年": -2,
    "明年": 1, "下一年": 1, "后年": 2,
}
RELATIVE_YEAR_RE = re.compile("|".join(sorted(RELATIVE_YEARS, key=len, reverse=True)))
# The whole country as a scope: a national document, or a passage that says it.
NATIONAL = ("全国", "国内", "我国", "全中国", "中国")
NATIONAL_RE = re.compile("|".join(NATIONAL))

# A "target" question asks for what a plan sets, not what was achieved, and the reverse.
TARGET_RE = re.compile(r"目标|计划|打算|要达到|要到|力争|预期|定的|定了")
ACHIEVED_RE = re.compile(r"实际|完成了|做到|达到了|实现了|已经")
# A passage sentence that sets a target.
TARGET_TEXT_RE = re.compile(r"目标|力争|达到|以上|左右|提高到|不低于|确保|稳定在|控制在|预期")
# A report's section that plans rather than reviews.
PLAN_SECTION_RE = re.compile(r"安排|计划|目标|任务|展望|打算")
# A list question wants every item back.
LIST_RE = re.compile(r"哪些|哪几|有什么|包括|分别|几个|几种|几类|几项|都有")

# The personal story before the question ("我在城里打工，老家好几亩地都撂荒了。…"): its own words
# (城里, 打工) say nothing of the subject unless the corpus knows them.
STORY_START_RE = re.compile(r"^(我|我们|我家|俺|咱|家里|家中|孩子|听说|据说|最近|前段时间|现在|有人|有的)")
SEGMENT_RE = re.compile(r"[^，,。！!？?；;：:\s]+[，,。！!？?；;：:\s]*")
SENTENCE_RE = re.compile(r"[^。！!？?]+[。！!？?]*")

# Pronouns that point back to the previous turn's subject.
PRONOUN_RE = re.compile(r"^(它们|它|他们|她们|这一项|这一条|这一点|这个|这项|这条|这些|该项|该|这|那个|那项|那些|其)")


def answer_kind(question: str) -> str:
    """The kind of answer a question asks for (general when no cue matches)."""
    for kind, cue in KIND_CUES:
        if cue.search(question):
            return kind
    return "general"


def asked_measure(question: str) -> str | None:
    """The measure a figure question names ('money', 'percent', 'area', 'days', 'hours'), or a counter word."""
    for name, pattern in (("money", MONEY_QUESTION_RE), ("percent", PERCENT_QUESTION_RE),
                          ("area", AREA_QUESTION_RE), ("days", DAYS_QUESTION_RE), ("hours", HOURS_QUESTION_RE),
                          ("duration", DURATION_QUESTION_RE)):
        if pattern.search(question):
            return name
    m = COUNTER_RE.search(question)
    return m.group(1) if m else None


def segments(question: str) -> list[str]:
    """The question's comma-level segments, in order."""
    return [m.group() for m in SEGMENT_RE.finditer(question) if m.group().strip()]


def story(question: str) -> str:
    """The context in front of the question: every sentence before the last, and the last sentence's
    leading segments that tell the asker's own situation ("我在城里打工，…")."""
    sents = [m.group() for m in SENTENCE_RE.finditer(question) if m.group().strip()]
    if not sents:
        return ""
    context = sents[:-1]
    segs = segments(sents[-1])
    for seg in segs[:-1]:
        if not (STORY_START_RE.match(seg) or context) or QUESTION_WORDS_RE.search(seg):
            break
        context.append(seg)
    return "".join(context)

# Words that say a plan's figure is asked for (query.target), not what it is about.
TARGET_WORDS = frozenset({"目标", "预期目标", "计划", "任务目标", "打算"})
# Words that say what is asked about a subject, not the subject itself: a follow-up that brings a
# new subject keeps them from the previous question.
PREDICATE_WORDS = frozenset({
    "目标", "增长", "计划", "任务", "要求", "标准", "比例", "比重",
    "时间", "期限", "多少", "达到", "提高", "降低", "完成",
})

# A document named in a question ("农村土地承包法里", "那个耕地保护的意见"): a run ending in a kind of
# document; the longest tail of it whose characters stand in order in a title names that document.
DOC_REF_RE = re.compile(
    r"[《“]?([\u4e00-\u9fff]{2,30}?(?:法|条例|办法|细则|意见|方案|通知|规定|决定|报告|纲要|规划|意见书))[》”]?")
DOC_REF_MIN = 5  # characters, the kind word included: shorter tails (实施办法) name no document
