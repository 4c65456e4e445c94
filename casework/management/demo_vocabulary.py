"""The demo boroughs' concern vocabulary: signs to look for, sources and
indicators for every standard concern, in the plain language a partnership
would write for teachers, youth workers and the rest. Fictional boroughs,
real public guidance (the sources)."""

from __future__ import annotations

# code: (signs in Markdown, source title, source link, indicators)
DEMO_VOCABULARY: dict[str, tuple[str, str, str, list[str]]] = {
    "weapon": (
        "Young people who carry knives usually say it is for protection. Look out for:\n\n"
        "- talk of needing to protect themselves, or fear of a named person or area\n"
        "- a knife, blade or other weapon found in a bag, coat or bedroom, or kitchen knives going missing\n"
        "- unexplained cuts to clothes or bags, or injuries they will not explain\n"
        "- videos, music or posts that show or glorify weapons\n"
        "- avoiding certain streets, buses or places they used to go\n\n"
        "If a young person has a weapon with them now and someone is in danger, **call 999**.",
        "Home Office: Serious Violence Strategy", "https://www.gov.uk/government/publications/serious-violence-strategy",
        ["Has been seen with a knife or other weapon", "Says they need to protect themselves",
         "Kitchen knives or tools missing at home", "Unexplained injuries or cuts to clothing",
         "Shares or watches content glorifying weapons"],
    ),
    "gang_association": (
        "Gangs offer belonging, status and protection, and use them to pull young people in. Look out for:\n\n"
        "- new friends who are older, or a sudden drop of old friends\n"
        "- new nicknames, hand signs, colours or clothing worn by a group\n"
        "- territorial talk about postcodes or estates, or fear of going to certain areas\n"
        "- new money, clothes or phones they cannot explain\n"
        "- being involved in fights, or talking about 'beef' with another group",
        "NSPCC: Gangs and criminal exploitation",
        "https://www.nspcc.org.uk/what-is-child-abuse/types-of-abuse/gangs-criminal-exploitation/",
        ["Spends time with older young people or adults", "Uses a group's name, colours or hand signs",
         "Afraid to go to certain areas or postcodes", "Involved in fights between groups",
         "Has dropped old friends suddenly"],
    ),
    "criminal_exploitation": (
        "County lines and other criminal exploitation groom children to carry or sell drugs and money. "
        "The child is a victim, even when they seem willing. Look out for:\n\n"
        "- unexplained money, new phones (often more than one) or new clothes and trainers\n"
        "- going missing from home or school, sometimes for days, or being found far from home\n"
        "- older friends, or relationships with controlling older people\n"
        "- travel out of the area: train tickets, hotel receipts, talk of other towns\n"
        "- being secretive about where they go, or constantly on the phone and anxious to answer\n"
        "- injuries, or being in debt to someone",
        "Home Office: Criminal exploitation of children and vulnerable adults: county lines",
        "https://www.gov.uk/government/publications/criminal-exploitation-of-children-and-vulnerable-adults-county-lines",
        ["Has unexplained money or expensive items", "Has a new phone or more than one phone",
         "Goes missing or is found out of the area", "Has older friends or a controlling older person in their life",
         "Travels out of the area with no good reason", "Owes money or talks about a debt"],
    ),
    "sexual_exploitation": (
        "Children who are sexually exploited often do not see themselves as victims. Look out for:\n\n"
        "- an older boyfriend or girlfriend, or secretive relationships\n"
        "- gifts, money, alcohol or drugs from people they will not name\n"
        "- going missing, staying out late or being picked up by unknown cars\n"
        "- sexual health problems, or changes in how they dress or behave",
        "NSPCC: Child sexual exploitation",
        "https://www.nspcc.org.uk/what-is-child-abuse/types-of-abuse/child-sexual-exploitation/",
        ["Has an older boyfriend or girlfriend", "Gets gifts or money from people they will not name",
         "Picked up by unknown cars", "Goes to parties or addresses with older people"],
    ),
    "victim_of_violence": (
        "A young person who has been hurt may be at risk of being hurt again, or of hurting others. Look out for:\n\n"
        "- injuries they will not explain, or that do not fit the story\n"
        "- talk of revenge, or of being 'marked'\n"
        "- not wanting to leave home or go to school, or changing their route\n"
        "- hospital attendances after assaults",
        "Victim Support", "https://www.victimsupport.org.uk/",
        ["Has injuries they will not explain", "Talks about getting revenge", "Afraid to leave home or go to school",
         "Has been to hospital after an assault"],
    ),
    "missing_episodes": (
        "Every time a child goes missing they are at risk of harm, including exploitation. Look out for:\n\n"
        "- repeated missing episodes, however short\n"
        "- coming back with new things, injuries, or tired and hungry\n"
        "- refusing to say where they were or who they were with\n"
        "- being missing from school while believed to be there",
        "Missing People", "https://www.missingpeople.org.uk/",
        ["Has been missing more than once", "Comes back with new things or injuries",
         "Will not say where they were", "Missing from school without explanation"],
    ),
    "exclusion": (
        "Exclusion and long absence cut a young person off from the adults who keep them safe, and "
        "exploiters look for them. Look out for:\n\n"
        "- a recent or repeated exclusion, or a managed move\n"
        "- part-time timetables or long spells out of school\n"
        "- falling behind and losing interest, or disruptive behaviour that is new",
        "GOV.UK: School discipline and exclusions", "https://www.gov.uk/school-discipline-exclusions/exclusions",
        ["Excluded recently or more than once", "On a part-time timetable", "Attendance has dropped sharply"],
    ),
    "substance_misuse": (
        "Drug and alcohol use can be a sign of exploitation as well as a risk in itself. Look out for:\n\n"
        "- smelling of cannabis or alcohol, or being intoxicated during the day\n"
        "- drugs, scales or bags found with them\n"
        "- money problems or stealing\n"
        "- mood swings, tiredness or losing interest in things they enjoyed",
        "FRANK", "https://www.talktofrank.com/",
        ["Intoxicated during the day", "Drugs, scales or small bags found", "Stealing or money problems"],
    ),
    "mental_health": (
        "Violence, exploitation and loss all affect mental health. Look out for:\n\n"
        "- withdrawal, low mood, anxiety or anger that is new\n"
        "- self-harm, or talk of not wanting to be here\n"
        "- trouble sleeping or eating\n\n"
        "If a young person is at immediate risk of harming themselves, call 999.",
        "YoungMinds", "https://www.youngminds.org.uk/",
        ["Has self-harmed or talked about it", "Withdrawn or very low in mood", "Not sleeping or eating"],
    ),
    "domestic_abuse": (
        "Children who live with domestic abuse are victims of it in their own right. Look out for:\n\n"
        "- talk of arguments, fighting or fear at home\n"
        "- police called to the home\n"
        "- not wanting to go home, or worrying about a parent\n"
        "- aggressive or controlling behaviour in their own relationships",
        "NSPCC: Domestic abuse", "https://www.nspcc.org.uk/what-is-child-abuse/types-of-abuse/domestic-abuse/",
        ["Talks about fighting or fear at home", "Police have been called to the home",
         "Does not want to go home"],
    ),
    "bereavement": (
        "Losing someone, especially to violence, can leave a young person angry, isolated or looking for "
        "belonging elsewhere. Look out for:\n\n"
        "- a recent death of a family member or friend\n"
        "- anger, risk-taking or talk of revenge after a loss\n"
        "- anniversaries and court dates, which can bring things back",
        "Child Bereavement UK", "https://www.childbereavementuk.org/",
        ["A family member or friend has died recently", "Someone close was killed or seriously hurt",
         "Angry or taking risks since a loss"],
    ),
    "online_harm": (
        "Conflict between groups often starts or grows online, and exploiters groom online too. Look out for:\n\n"
        "- threats, taunts or 'drill' videos naming them or their area\n"
        "- being contacted by adults they do not know, or asked to keep secrets\n"
        "- sharing or being asked to share images\n"
        "- being very anxious about their phone or accounts",
        "CEOP Safety Centre", "https://www.ceop.police.uk/Safety-Centre/",
        ["Named or threatened in videos or posts", "Contacted online by adults they do not know",
         "Asked to share images"],
    ),
    "other": (
        "Describe the concern in your own words. If you are unsure whether to refer, talk to the hub.",
        "", "", [],
    ),
}

# The model information-sharing agreement the demo partnerships offer their agencies.
DEMO_AGREEMENT_TEMPLATE = (
    "Model information-sharing agreement: serious violence and exploitation",
    "## Purpose\n\n"
    "The parties share information about children and young people at risk of serious violence or "
    "exploitation so that they can assess risk, plan support together and keep them safe.\n\n"
    "## What is shared\n\n"
    "- only what is needed for the purpose, with the partners who need it\n"
    "- the lawful basis and, for special category data, the condition relied on, recorded each time\n\n"
    "## Retention\n\n"
    "Records are kept until the young person's 25th birthday, then anonymised.\n\n"
    "See the [ICO's data sharing code of practice](https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/data-sharing/).",
)
