"""Every sentence the engine says that is not in a dialogue file, in one place to review.

Dialogue words live in `dialogues/*.yaml`; these are the engine's own: greetings, commands,
refusals of bad input and errors. Keep them short, kind and actionable.
"""

from __future__ import annotations

GREETING = (
    "Hello{name}. I'm Influence Coach. I help you think through situations where you need "
    "to move people you have no authority over: a partnership, a professional service, a "
    "council, a trust. Together we look at who holds power and why, where yours lies, who "
    "could stand with you, and a few dated next steps. I'll check in when they fall due."
)
NAME_ASK = (
    "First, what would you like me to call you? Type a name, or pick one of these to start "
    "straight away:"
)
NAME_KNOWN = "I'll call you {name}. If you'd rather something else, say \"call me …\" at any point."
NAME_THANKS = "Nice to meet you, {name}."
NAME_SKIPPED = 'That\'s fine. You can tell me any time: say "call me …".'
NAME_CHANGED = "I'll call you {name} from now on."
NAME_UNREADABLE = 'I couldn\'t make a name of "{text}". Say "call me" and the name, a word or two.'
MENU = "What would you like to do? Pick one:"
MENU_AGAIN = "What would you like to do next?"
MENU_SUGGEST = "Thank you for telling me. I've kept what you wrote, so we can start from it."
MENU_SUGGEST_ASK = "Shall we work through it together? I'd suggest: {title}."
MENU_SUGGEST_YES = "Yes, let's start"
MENU_SUGGEST_NO = "Something else"
MENU_SUGGEST_DECLINED = "Of course."
MENU_HELLO = (
    "Hello again. Here's what we can do, or tell me about a situation in a sentence or two."
)
MENU_THANKS = "You're welcome. I'm here whenever you need me."
MENU_NOT_UNDERSTOOD = (
    "I'm not sure what you'd like me to do with \"{text}\". Here's what I can do; you can "
    "also tell me about a situation in a sentence or two, type `steps` to see your plan, or "
    "`history` for our past conversations."
)
STEPS_NONE = (
    "You have no open next steps yet. A diagnosis ends with two or three, and I'll check in "
    "when they fall due."
)
STEPS_HEAD = "Your open next steps:"
STEPS_DUE = " (due now)"
STEPS_MARK = "To mark one, say `done 1`, `partly 1`, `not yet 1` or `dropped 1` (with its number)."
STEPS_WHICH = "You have {count} open steps: give the number `steps` shows, for example `done 1`."
MARKED = {
    "done": "Marked as done: {title}. Well done.",
    "partly": "Marked as partly done: {title}. It stays open, due {date}, to finish it.",
    "not_yet": "Not yet: {title}. I've moved it to {date}.",
    "dropped": "Dropped: {title}. Letting a step go is part of learning what works.",
}
LEARNED_ASK = "What did you learn from it? A sentence is plenty."
LEARNED_SKIP = "Skip"
LEARNED_KEPT = "Thank you. I've kept that with the step."
LEARNED_SKIPPED = "All right."
SKIP_WORDS = frozenset({"skip", "no", "nothing", "pass", "not now", "no thanks", "none"})

GREET_DUE = "Due now: {title} (you planned it for {date})."
GREET_DUE_MANY = "Due now:"
DUE_LINE = "{title} (you planned it for {date})"
GREET_OPEN = "Your open next steps, soonest first:"
GREET_OTHERS = "Your other open steps:"
STEP_BY = "{title}, by {date}"
STEP_OVERDUE = "{title}, due {date}"
GREET_LAST = "Last time, {date}: {what} — {steps}."
COUNT_NO_STEPS = "no steps"
COUNT_STEPS = "{n} step{s}"
COUNT_DONE = ", {n} done"
COUNT_NONE_DONE = ", none done yet"
GREET_COMMANDS = "(`steps` to mark one done, `history` for our past conversations.)"

HISTORY_HEAD = "Our conversations, newest first:"
HISTORY_NONE = "We haven't had a conversation yet. A diagnosis is a good place to start."
HISTORY_NO_PAGE = "There are no earlier conversations than those."
HISTORY_STEPS = "Steps: "
HISTORY_SHOW = "Say `show {n}` to see one in full."
HISTORY_MORE = "Say `history {page}` for earlier ones."
UNFINISHED = {
    "abandoned": " (set aside)",
    "active": " (not finished)",
    "paused": " (not finished)",
}
OUTCOME_OPEN = "open, by {date}"
OUTCOME_LABELS = {
    "done": "done",
    "partly": "partly done",
    "not_yet": "not yet",
    "dropped": "dropped",
}
SHOW_WHICH = "I can't find that one. `history` lists our conversations with their numbers."
SHOW_ANSWERS = "What you told me:"
SHOW_NO_ANSWERS = "Nothing was answered in it."
SHOW_STEPS = "Your next steps and how they went:"
SHOW_LEARNED = ' You learned: "{text}"'

NOTHING_LOADED = (
    "No dialogues are available right now: an admin needs to fix the dialogue files "
    "(`coach dialogues validate` shows what is wrong)."
)
BROKEN_DIALOGUES = "Some dialogues could not be loaded and are not offered: {names}."
UNKNOWN_DIALOGUE = "I don't know a dialogue called '{name}'. These are available: {known}."
STARTING = "Let's start: {title}."

COMMANDS_HELP = (
    "You can type these at any point:\n"
    "  help     – this list, and a hint for the current question\n"
    "  back     – undo your last answer\n"
    "  restart  – start this dialogue again from the beginning\n"
    "  summary  – what you've told me so far\n"
    "  steps    – your open next steps; `done 2` (or partly, not yet, dropped) marks one\n"
    "  history  – our past conversations; `show 1` shows one in full\n"
    "  call me <name> – what I call you\n"
    "  pause    – stop for now; I'll pick up exactly here next time\n"
    "  menu     – pause this and see everything I can do\n"
    "  start <name> – begin a dialogue (for example: start diagnose)\n"
    "  quit     – leave the chat (everything is saved)\n"
    "At a question with options, answer with a number, an option's words or your own "
    '("1 and 3" where several fit).'
)
HINT = "Hint for this question: {hint}"
#: Asked why a question is asked, or what it means: its reason or its hint, then the question.
ABOUT_THE_QUESTION = "Good question. {said}"
ABOUT_THE_QUESTION_PLAIN = (
    "Put it however you like: a few words are plenty, and I'll check anything I'm not sure of."
)

EMPTY = "I didn't catch anything there. {again}"
TOO_LONG = (
    "That message is longer than I can take in one go ({length:,} characters; the limit is "
    "{limit:,}). Nothing was lost: please send it in shorter parts, or the main points."
)
STALE = (
    "That button belongs to an earlier question, so I've left things as they are. "
    "The current question is below."
)
COMMIT_ONE_MORE = (
    "Let's choose at least {least}: a second step gives you somewhere to go if the first one "
    "stalls. Which other one will you take on?"
)
PICK_ONE = "Please pick one of the options, by its number or its words."
#: Said when a sentence is kept as the user's note: one is picked by the sentence, so the
#: same words do not come back every time.
NOTED = (
    "Thank you, I've kept that in your own words.",
    "I've noted that, just as you put it.",
    "That's kept with your answers, as you said it.",
    "Thank you. I've written that down in your words.",
)
KEPT_AS_NOTE = "{noted} Which of these comes closest?"
SUGGEST_ONE = "That sounds like *{option}*. Is that right?"
SUGGEST_TWO = "That sounds like *{first}* or *{second}*. Which is closer?"
WHICH_ONE = "{first} or {second} — which matters most here?"
WHICH_OF_TWO = "You named two of these: *{first}* and *{second}*. Which matters most here?"
TOO_MANY = "That's {count} of them. Which {most} matter most here?"
COMMIT_SEVERAL = "Good: {titles}. Let's give each a date, one at a time."
COMMIT_TOO_MANY = (
    "That's {count} of them; a plan holds {most} more at most here. Which matter most?"
)
SUGGESTION_DECLINED = "All right. Which of these is closest, then?"
TAKEN_AS = "I'll take that as: {labels}."
TAKEN_AS_NOTED = "I'll take that as: {labels}. I've kept your words with it."
SCALE = "Please give a number from {low} to {high}."
SCALE_NOTED = "{noted} And as a number from {low}{low_label} to {high}{high_label}?"
SCALE_WHICH = "{first} or {second} — which is closer?"
SCALE_UNSURE = "If you had to put a number on it, from {low} to {high}?"
SCALE_TAKEN = "I'll put that down as {value} of {high}, and keep your words with it."
YES_NO = "Please answer yes or no."
YES_NO_UNSURE = "If you had to choose: more yes, or more no?"
YES_NO_NOTED = "{noted} Would you say that's a yes or a no?"
YES_NO_TAKEN = "I'll take that as a {answer}, and keep your words with it."
DATE_UNREADABLE = (
    "I couldn't read that as a date. Try a form like 2026-12-01, 1 December, next friday "
    "or in 2 weeks."
)
DATE_PAST = "{date} has already passed. When from today would work?"
DATE_BEFORE_WHAT = (
    'Before what? Give me the date it counts back from, like "two weeks before the 14th", '
    "or the date itself."
)
DATE_NOTED = "Noted: {date}. (Say `back` if you meant another day.)"
NAME_INSTEAD = "What short name would you like me to use instead? A few words is plenty."
NAME_SHORTER = (
    "A shorter name, please ({most} words at most). I've kept everything you wrote as well."
)
DATE_TOO_FAR = "That's more than three years away. Pick a nearer date so we can follow it up."
ASK_AGAIN = "Here is the question again:"

KNOWN_CHANGED = "All right, let's take it afresh."
KNOWN_UNCLEAR = "I didn't quite catch that. Does it still hold, or has it changed?"

NO_BACK = "There's nothing to undo yet: this is the first question."
WENT_BACK = "Undone. Back to the previous question:"
TOOK_BACK = "No problem: I've taken back your last answer. Here's that question again:"
RESTARTED = "Starting {title} again from the beginning."
PAUSED = (
    "Paused. Everything you've said is saved. When you come back, I'll pick up at "
    "exactly this point."
)
#: Ctrl-C in the terminal: not a pause the user asked for, so not called one.
#: Before a log line held while someone typed (a refused dialogue edit, say): who it is for.
ADMIN_NOTICE = "(For whoever edits the dialogues:)"
STOPPED_TERMINAL = "Stopped. Everything you said is saved; run `coach chat` to carry on."
GOODBYE = "Goodbye for now. Everything is saved; come back whenever you like."
WELCOME_BACK = "Welcome back{name}."
WELCOME_BACK_TO = "Welcome back. We were partway through {title}. Here's where we were:"
RECAP_PAUSED = "You paused {title}{when}."
RECAP_LEFT = "We were partway through {title} when you left {when}."
RECAP_PARTWAY = "We were partway through {title}."
RECAP_ANSWERS = "Your last answers:"
RECAP_WHERE = "Here's where we were:"
NOT_IN_DIALOGUE = "We're not in a dialogue right now."
SUMMARY_EMPTY = "You haven't answered any questions in {title} yet."
SUMMARY_HEAD = "What you've told me so far in {title}:"
SUMMARY_STEPS = "Your next steps so far:"
ABANDONED = "I've set {title} aside (it stays in your history)."

IDLE_RECAP = (
    "It's been {days} days since we last talked. You were partway through {title}, at: {where}."
)
IDLE_ASK = "Would you like to carry on from there, or start again?"
RESUME_LABEL = "Carry on where I was"
RESTART_LABEL = "Start this again"
MENU_LABEL = "Something else"
RESUME_PROMPT = "Would you like to carry on, start again, or do something else?"
PAUSED_OTHER = "You also have {title} paused from before. Would you like to carry on with it?"
LEFT_WHEN = " (you left it {when})"
LEFT_OTHER = (
    "Before that, we were partway through {title}{when}. Would you like to carry on with it?"
)
VERSION_CHANGED = (
    "The {title} dialogue has been updated since we spoke, and the question you were at no "
    "longer exists, so I've set that conversation aside (your answers stay in your history). "
    "You can start it again from the menu."
)
DIALOGUE_GONE = "The dialogue you were in ({name}) is no longer available."

CHECKIN_INTRO = "Before anything else, a quick check-in on a step you planned."
#: A sentence at the menu that sounds like news of one of the user's open steps.
REPORT_ASK_ONE = (
    "That sounds like news of your step “{title}”. Shall we look at how it went? It takes a minute."
)
REPORT_ASK_WHICH = "That sounds like news of one of your steps. Which one is it about?"
REPORT_YES = "Yes, let's look at it"
REPORT_NO = "No, something else"
REPORT_NONE = "None of these"
CHECKIN_INTRO_SEVERAL = (
    "Before anything else, a quick check-in on the {count} steps you planned that have come "
    'due, one at a time. Say "later" to leave one for tomorrow.'
)
CHECKIN_NEXT = "Now the next step that's due."
#: A next step from before, offered again at a revisit's plan with a new date.
AGAIN_LABEL = "Again: {title}"
SAFETY_CONTINUE = "Thank you. Let's carry on whenever you're ready:"
SAFETY_STOPPED = (
    "That's completely fine. Everything is saved, and you can pick this up whenever you want. "
    "Please do reach out to the people above if you need them."
)
SAFETY_ASK = "Would you like to carry on with the coaching, or stop here for now?"
#: Followed by the answer's own acknowledgement (or the offer to work on it, at the menu),
#: which thanks them itself: one "Thank you", not two.
SAFETY_CONTINUE_HELD = "Let's carry on, with what you told me in mind."
SAFETY_CONTINUE_MENU = "Thank you. Take your time: we can start on anything whenever you're ready."
SAFETY_STOPPED_MENU = (
    "That's completely fine. Please do reach out to the people above if you need them. "
    "I'm here whenever you want to come back."
)
SAFETY_AGAIN = "Before we go on, I'd like to be sure how you are."
UNSAFE_FALLBACK = (
    "Please get help now: if you are in danger, call 999. Samaritans are there any time "
    "on 116 123, and NHS 111 for urgent help that isn't an emergency."
)
CONCERN_AGAIN = (
    "I can hear that this is still with you, and I'm keeping it in mind. We can stop at any "
    "point: just say pause."
)

STORAGE_FAILED = "{error}"
TEMPLATE_TOO_COSTLY = (
    "Sorry, this part of the conversation is broken: a message in the dialogue asks for far "
    "more than any message needs, so I stopped it and haven't saved that answer. I've logged "
    "it for whoever looks after the coach. Type `menu` to do something else; what you'd "
    "already told me is kept."
)
DIALOGUE_LOOP = (
    "Sorry, this part of the conversation is broken: the dialogue goes round in a loop "
    "without a question, so I haven't saved that answer. I've logged it for whoever looks "
    "after the coach. Type `menu` to do something else; what you'd already told me is kept."
)
INTERNAL_ERROR = (
    "Something went wrong on my side and your last message wasn't saved. Nothing earlier was "
    "lost. Please send it again; if it keeps happening, tell your admin."
)

# -- sharing with a coach (`share`, `shared`, `unshare`) ------------------------------------------

SHARE_NO_COACHES = (
    "There is no coach to share with yet. Whoever runs the coach for you can add one "
    "(`coach users add-coach`)."
)
SHARE_AFTER_SAFETY = "Let's come back to sharing once we've settled this first."
SHARE_WHICH_COACH = (
    "Nothing is shared unless you say so, and you can take it back at any time (`unshare`). "
    "Which coach would you like to share with?"
)
SHARE_WHAT = (
    "What would you like to share with {coach}? Pick a conversation (the numbers are the ones "
    "in `history`; 1 is this or the last one), or all the conversations you start from now on."
)
SHARE_FUTURE_LABEL = "All the conversations I start from now on"
SHARE_CANCEL_LABEL = "Cancel: share nothing"
SHARE_PREVIEW = "This is what {coach} will read first:\n\n{summary}\n\nShall I share it like this?"
SHARE_AS_IS = "Yes, share it as it is"
SHARE_CORRECT = "Let me correct the summary first"
SHARE_CORRECT_ASK = (
    "Write the summary as you'd like {coach} to read it first. What we said stays as it was "
    "said; {coach} reads your version first."
)
SHARE_NOT_UNDERSTOOD = "I didn't catch which. {ask}"
SHARE_NO_NUMBER = "There's no conversation {n} in your history (`history` lists them)."
SHARE_DONE = (
    "Shared with {coach}: {what}. You can see what you've shared with `shared`, and take it "
    "back with `unshare`."
)
SHARE_DONE_CORRECTED = "{coach} will read your summary first."
SHARE_ALREADY = "That was already shared with {coach}."
SHARE_FUTURE_DONE = (
    "From now on, each conversation you start is shared with {coach}, until you say "
    "`unshare`. What we talked about before stays private."
)
SHARE_CANCELLED = "Nothing was shared."
SHARED_NONE = "You haven't shared anything with a coach. (`share` to share a conversation.)"
SHARED_HEAD = "What you share, and with whom:"
SHARED_FUTURE = "{coach}: every conversation you start from {date} on"
SHARED_ONE = "{coach}: {what}"
SHARED_UNSHARE = "`unshare 1` takes one back (by its number here), `unshare all` takes back all."
UNSHARE_WHICH = "Which? There {verb} {count} here. `unshare all` takes back all of them."
UNSHARE_DONE = "Done: {coach} can no longer see {what}."
UNSHARE_ALL_DONE = "Done: nothing is shared with any coach now."
