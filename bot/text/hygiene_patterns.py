"""Patterns for public-update hygiene (see ``bot.text.hygiene``).

Kept apart from the matching logic so the word lists can grow without the logic getting
harder to read. Every pattern here is tuned for precision first: a checker that cries wolf
on neutral facts ("elevated 502 errors", "us-east-1", "14:05 UTC") gets ignored.
"""

from __future__ import annotations

import re

ADVICE: dict[str, str] = {
    "ip": "IP address: remove it; name the affected feature or region instead",
    "hostname": "Internal name or link (a host, or a Slack person, channel or thread): "
    "describe the affected feature instead (e.g. 'checkout')",
    "trace": "Stack trace or error code: describe what customers see instead",
    "speculation": "Speculation: state only what is confirmed, or say the cause is under "
    "investigation",
    "blame": "Blame: own the impact; don't point at a person, vendor or provider",
    "premature": "Says it is over while status is '{status}': describe the improvement, or "
    "publish with status 'resolved'",
}

# --- ip -------------------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(
    rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?:/\d{{1,2}})?(?::\d{{1,5}})?(?![\w%]|\.\d)"
)
# Four-part version numbers look like addresses ("version 3.4.0.12").
VERSION_BEFORE = re.compile(
    r"(?:version|ver\.?|build|release|firmware|sdk|ios|macos|android|windows|kernel|v)\s*$",
    re.IGNORECASE,
)
IPV6_CANDIDATE = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:/\d{1,3})?(?![\w:])"
)

# --- hostname -------------------------------------------------------------------------------

INTERNAL_FQDN = re.compile(
    r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:internal|local|localdomain|corp|lan|intranet|intra|priv|home\.arpa)"
    r"(?![\w-]|\.[a-z0-9])",
    re.IGNORECASE,
)
# ... or with such a label in the middle, under any public suffix: jenkins.corp.example.net.
INTERNAL_LABEL_FQDN = re.compile(
    r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:internal|corp|intranet|intra|lan|priv|prod|prd|stg|staging|preprod)"
    r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?![\w-]|\.[a-z0-9])",
    re.IGNORECASE,
)
INFRA_WORDS = re.compile(
    r"(?<![\w.-])(?:k8s|kubectl|kube-[a-z]+|localhost|kubeconfig)(?![\w-])", re.IGNORECASE
)
# Lower-case hyphenated tokens; classified by ``hostname_like`` below.
DASHED_TOKEN = re.compile(r"(?<![\w.-])[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+(?![\w-])")
REGION = re.compile(
    r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn|uk|jp|in|au|sg|br|de|fr|us-gov)"
    r"-[a-z]+(?:-[a-z]+)?-\d{1,2}[a-z]?"
)
ENV_SEGMENTS = frozenset({"prod", "prd", "stg", "staging", "preprod", "uat", "canary"})
ENV_STOP = frozenset({"non-prod", "pre-prod", "non-staging"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


INFRA_SEGMENTS = _words(
    """web www app db rds sql mysql pg postgres psql mongo mongodb redis memcache memcached
    cache kafka zk zookeeper rabbit rabbitmq mq es elastic elasticsearch opensearch solr
    worker workers srv server vm lb haproxy nginx envoy proxy edge gw ingress broker mail smtp
    mx relay dns ns bastion etcd consul vault jenkins runner ci batch cron shard replica
    primary master cassandra hbase spark airflow celery sidekiq ec2 gke eks aks pod
    svc backend ldap ad dc pgbouncer pgpool proxysql patroni varnish squid nats pulsar minio
    ceph nfs sftp vpn jump"""
)
SERVICE_SUFFIXES = _words(
    """svc worker workers consumer consumers producer daemon cron sidecar controller db redis
    kafka mysql postgres pg indexer scheduler poller dispatcher lb proxy"""
)
SERVICE_STOP = frozenset({"co-worker", "co-workers", "fellow-worker", "anti-proxy"})
# Segments weak enough to appear in prose compounds ("web-based", "in-app"); a token of three
# or more segments with any other infrastructure segment is a name ("ci-runner-pool-b").
WEAK_INFRA_SEGMENTS = _words("web www app ad dc mail edge primary master batch relay jump vpn")
# A dashed name right before one of these nouns names a component: "the ledger-writer service".
INFRA_NOUN_AFTER = re.compile(
    r"\s+(?:services?|deployments?|pods?|clusters?|containers?|daemons?|workers?|queues?|"
    r"instances?|nodes?|hosts?|servers?|replicas?|statefulsets?|daemonsets?|namespaces?|"
    r"microservices?)\b"
)
# ... unless the dashed token is an ordinary English compound: "third-party service",
# "the check-in service", "customer-facing services", "two-factor service", "multi-region
# clusters", "text-to-speech service", "mission-critical services".
PROSE_COMPOUND_LAST = _words(
    """party time mail end hosted managed owned side level grade wide scale term house premise
    premises sign way site service"""
)
PROSE_PARTICLES = _words(
    """in on out up off down to of by for per with over under into back away and or as the a
    an at vs"""
)
PROSE_PREFIXES = _words(
    """multi non high low two three four five single double self cross semi anti pre post co re
    sub inter auto full half long short mission business well all any zero one real near
    ultra super hyper mid"""
)
PROSE_ADJECTIVE_ENDINGS = tuple(
    _words("ed ing ly al ic ive ent ant ous able ible less ful ity cy ary ory")
)

# --- trace ----------------------------------------------------------------------------------

_FRAME = (  # a Java-style frame: com.acme.Invoice.render(Invoice.java:214)
    r"(?<![\w$.])(?:[A-Za-z_$][\w$]*\.){2,}[\w$<>]+"
    r"\((?:[\w$.]+(?::\d+)?|Native Method|Unknown Source)\)"
)
_SRC_EXT = r"(?:py|rb|go|js|mjs|ts|tsx|jsx|java|kt|scala|php|cs|cpp|cc|c|h|rs|ex|exs|swift)"
TRACE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"Traceback \(most recent call last\):?"),
    re.compile(rf"(?:\bat\s+)?{_FRAME}"),
    re.compile(r"\bFile \"[^\"\n]{1,200}\", line \d+(?:, in [\w<>]+)?"),
    # Exception and error class names, optionally qualified: java.lang.OutOfMemoryError.
    re.compile(r"(?<![\w.])(?:[A-Za-z_]\w*\.)*[A-Z][A-Za-z0-9]*(?:Exception|Error)\b"),
    # A log line quoted after a logging verb: "nginx is logging 'upstream timed out'".
    re.compile(
        r"\b(?:logging|logged|logs?\s+(?:show|say)s?|throwing|threw|raising|raised)\s+"
        r"(?:the\s+)?(?:error\s+|message\s+)?(?:'[^'\n]{3,120}'|\"[^\"\n]{3,120}\"|“[^”\n]{3,120}”)",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bE(?:CONNREFUSED|CONNRESET|CONNABORTED|TIMEDOUT|HOSTUNREACH|NETUNREACH|ADDRINUSE|"
        r"ADDRNOTAVAIL|PIPE|NOENT|ACCES|PERM|MFILE|NFILE|NOMEM|NOSPC|AGAIN|AI_AGAIN|NOTFOUND|"
        r"PROTO|BADF|INVAL|BUSY|DQUOT|ROFS|NOTCONN|SHUTDOWN|RESOLVE|LIFECYCLE|INTEGRITY|"
        r"NOTEMPTY|EXIST)\b"
    ),
    re.compile(r"\bSIG(?:SEGV|KILL|TERM|ABRT|BUS|ILL|FPE|PIPE|HUP|QUIT|USR1|USR2|SYS|TRAP)\b"),
    re.compile(
        r"\b(?:OOMKilled|OOM[- ]?kill(?:ed|er)?|CrashLoopBackOff|ImagePullBackOff|ErrImagePull|"
        r"CreateContainerConfigError|EXC_[A-Z_]+|SQLSTATE\[?\w*\]?|PG::\w+)\b"
    ),
    re.compile(r"\b(?:ORA|PLS|TNS|IMP|EXP|RMAN)-\d{5}\b"),
    re.compile(r"\berrno\b(?:\s*[:=]?\s*-?\d+)?", re.IGNORECASE),
    re.compile(r"\bexit (?:code|status) -?\d+\b", re.IGNORECASE),
    re.compile(r"\b0x[0-9A-Fa-f]{4,}\b"),
    re.compile(
        r"\b(?:seg(?:mentation )?faults?(?:ed|ing)?|core dump(?:ed)?|kernel panic|"
        r"(?:nil|null) pointer(?: dereference)?|stack ?traces?|heap dump|thread dump|"
        r"goroutine \d+|(?:on |with )?signal \d{1,2})\b",
        re.IGNORECASE,
    ),
    re.compile(r"(?:^|(?<=[\s(\"']))panic: "),
    re.compile(r"\b(?:FATAL|ERROR|CRITICAL|SEVERE|PANIC):|\bnpm ERR!"),
    # Paths: Unix absolute paths under well-known roots, Windows paths, source file:line.
    re.compile(
        r"(?<![\w/:.~-])/(?:var|etc|usr|opt|home|tmp|srv|mnt|proc|sys|root|lib|run|dev|bin|"
        r"sbin|data|app|code|workspace)/[\w.@%+-]+(?:/[\w.@%+-]+)*(?<!\.)"
    ),
    re.compile(r"(?<![\w])[A-Za-z]:\\(?:[^\s\"'<>|\\]+\\?)+"),
    re.compile(rf"(?<![\w/.-])(?:[\w.-]+/)+[\w.-]+\.{_SRC_EXT}(?::\d+)?\b"),
    re.compile(rf"(?<![\w/.-])[\w-]+\.{_SRC_EXT}:\d+\b"),
)

# --- speculation ----------------------------------------------------------------------------

_CAUSAL = (
    r"(?:caused|related|due|because|linked|connected|tied|triggered|"
    r"the (?:cause|result|reason|root cause|culprit|problem|issue)|an? (?:result|consequence|"
    r"side effect))"
)
SPECULATION_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:we|i)(?:'re|'ve| are| have)?(?:\s+(?:currently|now|still|strongly|initially|"
        r"do|don't|do not))?\s+(?:think|believe|suspect|guess|assume|presume|reckon|"
        r"speculate|theori[sz]e|hypothesi[sz]e)\b",
        r"\b(?:probably|possibly|presumably|perhaps|maybe|supposedly|apparently|conceivably|"
        r"hopefully)\b",
        r"\b(?:most |very |quite |highly )?likely\b(?!\s+to\b)",
        rf"\b(?:might|may|could)(?:\s+(?:also|well|possibly))?\s+(?:be|have been)\s+{_CAUSAL}",
        r"\b(?:might|may|could) have (?:caused|triggered|contributed)\b",
        r"\b(?:it|this|that|which|the (?:cause|root cause|culprit))\s+(?:might|may|could)"
        r"(?:\s+also)?\s+(?:be|have been)\s+(?:an?|the|due|related|caused|because|from|linked|"
        r"down to|our|some|something)\b",
        r"\b(?:seems?|seemed)\s+(?:to|like)\b(?!\s+(?:be\s+)?(?:working|recovering|improving|"
        r"stable|holding))|\bit seems\b",
        rf"\bappears?\s+to\s+(?:be|have\s+been)\s+(?:{_CAUSAL}|an?\b)",
        r"\bit appears\b(?!\s+(?:in|on|as|when|under|at|for|only|next)\b)",
        r"\b(?:it|this|that|which)(?:\s+(?:now|still))?\s+looks\s+(?:like|as if|as though)\b",
        r"\b(?:we|we're|we are|i'm|i am)(?: still)? not (?:yet )?(?:sure|certain)\b|"
        r"\bunsure\b|"
        r"\bunclear (?:whether|if)\b",
        r"\b(?:pretty|fairly|reasonably|almost|quite) (?:sure|confident|certain)\b",
        r"\b(?:our |a )?(?:best )?guess(?:ing)?\b|\bspeculat\w*|\ba hunch\b|"
        r"\bsuspected (?:cause|root cause|culprit|issue|problem|bug|failure)\b",
        r"\bour (?:current |working |leading )?(?:theory|hypothesis|suspicion)\b|"
        r"\b(?:we have|we've got|there is|there's) (?:a|one|some) (?:working |leading )?"
        r"(?:theory|theories|hypothesis|hypotheses|suspicion|hunch)\b",
    )
) + (
    # Sentence-initial hedges: "Might be the failover from earlier."
    re.compile(r"(?:^|(?<=[.!?;:]\s))(?:Might|Could|May) be\b"),
    re.compile(r"(?:^|(?<=[.!?;:]\s))(?:Looks|Seems) like\b"),
)

# --- blame ----------------------------------------------------------------------------------

VENDORS = (
    r"(?:AWS|Amazon(?: Web Services| SES| S3)?|Azure|Microsoft|Google(?: Cloud)?|GCP|Cloudflare|"
    r"Akamai|Fastly|Stripe|Adyen|PayPal|Braintree|Worldpay|Twilio|SendGrid|Mailgun|Postmark|"
    r"Mailchimp|SparkPost|GitHub|GitLab|Bitbucket|Heroku|DigitalOcean|Linode|Hetzner|OVH\w*|"
    r"Oracle(?: Cloud)?|Salesforce|Okta|Auth0|Datadog|PagerDuty|Slack|Zoom|Shopify|Vercel|"
    r"Netlify|MongoDB(?: Atlas)?|Atlassian|Apple|Verizon|Comcast|AT&T|Vodafone|Lumen|Cogent|"
    r"Zayo|Equinix|Visa|Mastercard|Plaid|Firebase|Supabase|Snowflake|Confluent|Algolia|Vonage|"
    r"Sinch|Telnyx|Cloudinary|Let's Encrypt|Rackspace|IBM(?: Cloud)?|Alibaba Cloud|NS1|Dyn|"
    r"UltraDNS|Route ?53|Imperva|Zendesk|Intercom|HubSpot|OneSignal|Steam|Xbox Live|"
    r"PlayStation Network|PSN)"
)
_GENERIC_THIRD_PARTY = (
    r"(?i:the (?:payment processor|processor|carrier|cdn|isp|provider|vendor|"
    r"supplier|upstream|acquirer|bank|data ?cent(?:er|re))|"
    r"(?:an?|the|our|one of our) (?:[\w-]+ ){0,3}(?:third[- ]party|partners?|suppliers?|"
    r"vendors?|providers?|carriers?))"
)
_THIRD_PARTY = rf"(?:{VENDORS}|{_GENERIC_THIRD_PARTY})"
_BLAME_AFTER = (
    r"(?i:caused|causes|causing|broke|breaks|broken|is down|are down|went down|was down|"
    r"breaking (?:our|us|the|everything|things|it)\b|"
    r"(?:is|are|was|were|has been|have been) (?:flaky|unreliable|unstable)|let us down|"
    r"failed us|killing (?:our|us|the|everything|it)\b|"
    r"messed up|screwed up|failed to|fails to|is failing to|are failing to|failing to|"
    r"pushed a bad|deployed a bad|shipped a bad|made a mistake|mistake|fault|took (?:us|our)|"
    r"took down|brought down|knocked|is blocking|are blocking|throttl\w+)"
)
# "Our provider" on its own points at somebody else (docs/hygiene.md) ...
PROVIDER_MENTION = re.compile(
    r"\bour\s+(?:[\w-]+\s+){0,3}?(?:providers?|vendors?|suppliers?|isps?|hosting company)"
    r"(?:'s?)?(?![\w-])"
    r"|\bupstream (?:providers?|vendors?|isps?|carriers?|suppliers?)\b",
    re.IGNORECASE,
)
# ... but not when we are working with them: "working with our SMS provider, Twilio".
COLLABORATION_BEFORE = re.compile(
    r"\b(?:with|alongside|contacted|contacting|engaged|engaging|escalated(?: this| it)? to|"
    r"escalating(?: this| it)? to|informed|notified|partnering with)\s+(?:our\s+|an?\s+|the\s+)?$",
    re.IGNORECASE,
)
_BLAME_BEFORE = r"(?i:due to|because(?: of)?|caused by|blame|fault of|thanks to|on account of)"
BLAME_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"\b(?:human error|some(?:one|body)(?! (?:on|in|from) your\b)|the intern|an? intern|"
        r"(?:their|his|her) (?:fault|mistake)|(?:it's|it is|this is|was) their (?:error|bug|"
        r"problem|issue)|(?:issue|problem|outage|bug|fault|failure|fixed it|fix it|resolved it)"
        r"\s+(?:is\s+|was\s+)?on their (?:side|end)|(?:a )?mistake (?:by|from|made by)|"
        r"nothing we (?:can|could) do|not our fault|"
        r"to blame|messed up|screwed up|dropped the ball|fat[- ]finger\w*|incompeten\w*|"
        r"careless\w*|sloppy|negligen\w*|reckless\w*|(?:change|mistake|error|deploy(?:ment)?|"
        r"command|script|typo|commit|push)\s+(?:made\s+|run\s+|pushed\s+)?(?:by|from) one of our "
        r"(?:[\w-]+ )?(?:engineers|developers|employees|admins|administrators|operators|"
        r"contractors|staff))\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:an?|one of our|our|the)\s+(?:[\w-]+\s+)?(?:engineers?|developers?|devs?|operators?|"
        r"admins?|administrators?|employees?|team members?|contractors?|interns?|technicians?|"
        r"sres?|dbas?|staff(?: members?)?|colleagues?)(?:\s+(?:on|from|in) (?:our|the) "
        r"(?:\w+\s+)?team)?\s+(?:accidentally|mistakenly|inadvertently|erroneously|wrongly|"
        r"forgot|misconfigured|deleted|pushed a bad|broke|made a mistake|missed|"
        r"ignored|skipped|(?:pushed|shipped|deployed) untested)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:caused by|due to|because of|thanks to)\s+(?:an?|one of our|our|the)\s+"
        r"(?:[\w-]+\s+)?(?:engineers?|developers?|devs?|operators?|admins?|administrators?|"
        r"employees?|team members?|contractors?|interns?|technicians?|sres?|dbas?|"
        r"staff(?: members?)?|colleagues?)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\btheir\s+(?:bad|broken|faulty|botched|buggy|failed|untested|sloppy)\s+"
        r"(?:[\w-]+\s+)?(?:update|change|deploy(?:ment)?|release|config(?:uration)?|push|"
        r"maintenance|migration|patch|rollout)s?\b",
        re.IGNORECASE,
    ),
    # A third party named as the cause: "Cloudflare broke ...", "... due to AWS".
    re.compile(
        r"(?<!\bwith )(?<!\bvia )(?<!\busing )(?<!\bthrough )(?<!\bour )"
        rf"\b{VENDORS}(?:'s)?\s+(?:[\w,'-]+\s+){{0,8}}?{_BLAME_AFTER}\b"
    ),
    re.compile(rf"\b{_GENERIC_THIRD_PARTY}(?:'s)?\s+(?:[\w'-]+\s+){{0,3}}?{_BLAME_AFTER}\b"),
    re.compile(
        rf"\b{_BLAME_BEFORE}\s+(?i:an? (?:\w+ ){{0,2}}(?:at|with|from|on|by)\s+)?{_THIRD_PARTY}"
    ),
    re.compile(rf"\bon {_THIRD_PARTY}'s? (?:side|end)\b"),
)

# --- premature ------------------------------------------------------------------------------

PREMATURE = re.compile(
    r"\b(?:resolved|fixed|solved|remediated|fully (?:recovered|restored|resolved|operational)|"
    r"(?:has|have) been addressed|all clear|(?:issue|problem|error|outage|bug|incident)s?\s+"
    r"(?:is|are|has|have)\s+(?:now\s+)?(?:gone|disappeared|been eliminated)|"
    r"(?:is|are|was)\s+(?:now\s+)?(?:all\s+)?over"
    r"(?=\s*(?:[.!,;]|$|and\b|now\b)))",
    re.IGNORECASE,
)
# A claim about the future or a condition ("once this is resolved") is not a claim of recovery.
PREMATURE_NOT_BEFORE = re.compile(
    r"(?:\b(?:will|to be|once|until|till|when|whenever|after|before|if|unless|not|never|yet|"
    r"being|expect\w*|hope\w*|aim\w*|get|gets|getting|soon|previously|earlier)|n't)\b"
    r"[^.!?;]{0,30}$"
    # A status label, not a claim: "tickets marked as Resolved", "status set to fixed".
    r"|\b(?:marked|mark|set|changed|moved|labell?ed|flagged|tagged|shown|displayed|appear|"
    r"appears|listed|closed)\s+(?:as|to)\s+[\"'“]?$|\bstatus(?:\s+(?:of|is|was))?\s+[\"'“]?$",
    re.IGNORECASE,
)
PREMATURE_NOT_AFTER = re.compile(
    r"^(?:[- ](?:rate|price|term|deposit|fee|amount|interval|ip|address|income|window|schedule|"
    r"cost|number|width|size|line|asset|point|length)s?\b|\s+to\s+(?:the |an? )?(?:wrong|old|"
    r"incorrect|new|ip|address|\d)|\s+(?:within|by|in the next|in \d|soon|shortly|once|after|"
    r"yesterday|earlier|last \w+|previously|on \w+day))",
    re.IGNORECASE,
)
