"""The articles of the embedded demo. Written for this project (no third-party text), long and varied
enough that trafilatura, language ID, the quality rules and dedup each have real work to do."""

ARTICLES = {
    "garden": (
        "How a parking lot became the busiest garden in town",
        [
            "Five years ago the lot behind the old cinema on Elm Street held eleven parking spaces, a "
            "dumpster and a great deal of broken glass. Today it grows tomatoes, beans, squash and "
            "sunflowers for more than forty households, and on Saturday mornings it is the busiest "
            "place in the neighbourhood.",
            "The change began with a petition. Residents who had no yard of their own asked the city "
            "to lease them the lot for one dollar a year. The council agreed on one condition: the "
            "gardeners had to remove the asphalt themselves and bring in clean soil, because nobody "
            "knew what had leaked into the ground over decades of parked cars.",
            "It took two summers of weekend work. Volunteers rented a small excavator, hauled the "
            "broken asphalt to a recycling yard, and built raised beds from reclaimed timber. A local "
            "landscaping company donated forty tonnes of compost after one of its owners walked past "
            "and stopped to ask what was going on.",
            "The garden is run by a committee that meets on the first Monday of every month. Plots are "
            "assigned by lottery, and every gardener agrees to spend four hours a season on shared "
            "tasks such as turning the compost, fixing the irrigation lines and mowing the paths. "
            "Families who cannot manage a full plot can share one with a neighbour.",
            "What surprised the organisers most was who came. They expected retirees and young "
            "parents, and both arrived, but so did teenagers from the high school across the road, "
            "who now run a seedling sale every spring and use the money to pay for their biology "
            "club's field trips.",
            "The city has since asked the committee to advise on three more lots. Their advice is "
            "always the same: start small, test the soil before you plant anything, and put a bench "
            "in the middle, because a garden where people can sit down becomes a place people want "
            "to come back to.",
        ],
    ),
    "library": (
        "The library that lends tools, telescopes and sewing machines",
        [
            "Walk into the north branch of the public library and, between the travel guides and the "
            "cookbooks, you will find a shelf of cordless drills. Next to them sit two telescopes, a "
            "pressure washer, four sewing machines and a box of cake tins in every shape a child "
            "could want for a birthday.",
            "The library of things started as an experiment during a budget review. Librarians "
            "noticed that people kept asking whether the branch could lend equipment that most "
            "households use twice a year and then store for a decade. Borrowing a ladder, they "
            "reasoned, is not so different from borrowing a book about ladders.",
            "Every item has a barcode and a laminated card with instructions and safety notes. Staff "
            "check each tool when it comes back, charge the batteries and replace worn blades. The "
            "most popular items are the carpet cleaner, the stud finder and, to everyone's surprise, "
            "a label maker that has not spent a single night on the shelf since March.",
            "Losses have been small. In two years only three items failed to come back, fewer than "
            "the number of hardback novels that go missing in an average month. The branch manager "
            "thinks people treat shared tools with care precisely because they know a neighbour is "
            "waiting for them.",
            "The programme has changed how the building is used. Evening workshops now teach basic "
            "repairs, and a volunteer from the sewing circle runs a Thursday session where anyone "
            "can bring torn clothes and leave with them mended. Attendance at those sessions has "
            "grown every single month since they began.",
        ],
    ),
    "bikes": (
        "Inside the volunteer workshop that keeps a city cycling",
        [
            "The repair workshop under the railway arches opens at six on weekday evenings, and by "
            "ten past six there is usually a queue. People arrive with flat tyres, snapped chains, "
            "brakes that squeal and gears that refuse to change, and they leave an hour later having "
            "fixed the problem themselves.",
            "That is the rule of the place: the volunteers will show you how, but they will not do "
            "it for you. The founders believed that a person who has trued a wheel once will never "
            "be stranded by a buckled rim again, and that confidence matters more than any single "
            "repair.",
            "Donated bicycles arrive every week, many of them pulled out of sheds after years of "
            "neglect. Volunteers strip them down, sort the usable parts into labelled drawers and "
            "rebuild complete bikes that are given to refugees, students and people starting new "
            "jobs who need a reliable way to get to work.",
            "Last year the workshop rebuilt three hundred and twelve bicycles and hosted more than "
            "four thousand repair visits. It runs on small grants, a donation jar and the sale of "
            "refurbished vintage frames, which collectors sometimes drive across the county to buy.",
            "The hardest part, the coordinator says, is not money but space. The arches are damp in "
            "winter, the lighting is poor, and there is nowhere to store the donations that arrive "
            "faster than volunteers can process them. A move to a former bus depot is planned for "
            "next spring, if the lease can be agreed in time.",
        ],
    ),
    "bakery": (
        "A bakery that opens at four so the night shift can eat",
        [
            "Most bakeries open their doors at seven, when the first commuters want coffee. This one "
            "opens at four in the morning, because its owner noticed years ago that the nurses, "
            "cleaners and bus drivers finishing night shifts had nowhere to buy a warm meal on the "
            "way home.",
            "The menu is short and changes with the seasons: rye bread, cheese rolls, a lentil soup "
            "that is ready by half past four, and a plum cake in late summer that regulars talk about "
            "all year. Prices have not changed in three years, which the owner says is possible only "
            "because nothing is wasted.",
            "Bread that does not sell by noon goes to a shelter two streets away, and stale loaves "
            "become croutons, bread pudding and the crumbs for the bakery's own breaded cutlets. The "
            "owner keeps a notebook of what sold on each day of the week and bakes accordingly, a "
            "habit she learned from her grandfather.",
            "The early hours shape the people who work there. The two bakers start at midnight, and "
            "both say they prefer the quiet. Customers at that hour are tired and grateful, they "
            "say, and nobody is in a hurry to be somewhere else.",
            "When the building changed hands last autumn, regulars feared the worst. Instead the new "
            "landlord, who turned out to be a retired ambulance driver, renewed the lease for ten "
            "years and asked only that the plum cake stay on the menu.",
        ],
    ),
    "ferry": (
        "The last ferry captain on the river retires after forty years",
        [
            "For forty years Marta Keller has carried cars, cyclists, school classes and the "
            "occasional cow across the river at the narrowest point between the two villages. On "
            "Friday she makes her final crossing, and the county has not yet found anyone willing "
            "to take the wheel after her.",
            "The ferry is a flat steel deck pulled along a cable, with room for six cars and a small "
            "cabin where Keller keeps a kettle and a radio. It runs every twenty minutes from dawn "
            "until dusk, except when the river floods, which happens more often now than it did "
            "when she started.",
            "She has seen the crossing change. In the early years farmers used it to bring produce "
            "to the market town; now most passengers are tourists on bicycles following the river "
            "path, and in summer the queue on the western bank can reach the church.",
            "The nearest bridge is eighteen kilometres downstream, so without the ferry a trip that "
            "takes five minutes becomes a forty minute drive. Residents have started a campaign to "
            "keep it running, and the county has promised a decision on its future before the end "
            "of the year.",
            "Keller says she will miss the mornings most, when mist sits on the water and the only "
            "sound is the cable running over the pulleys. She plans to spend her retirement on the "
            "other side of the river, where she has never actually lived.",
        ],
    ),
    "werkstatt": (
        "Wie eine Dorfwerkstatt das Reparieren zurückbringt",
        [
            "Jeden zweiten Samstag verwandelt sich das alte Feuerwehrhaus in eine Werkstatt. Auf "
            "langen Tischen stehen Toaster, Radios, Lampen und Staubsauger, und an jedem Tisch sitzt "
            "jemand, der weiß, wie man sie wieder zum Laufen bringt.",
            "Die Idee stammt von einer pensionierten Elektrikerin, die sich darüber ärgerte, wie "
            "viele Geräte wegen eines kleinen Defekts im Müll landen. Inzwischen kommen zu jedem "
            "Termin mehr als fünfzig Menschen aus der ganzen Umgebung, und die Warteliste ist lang.",
            "Repariert wird gemeinsam: Die Besitzer bleiben dabei, schrauben mit und lernen, worauf "
            "sie achten müssen. Ersatzteile werden zum Selbstkostenpreis abgegeben, und wer kann, "
            "wirft eine Spende in die Kasse für neues Werkzeug.",
            "Im vergangenen Jahr wurden so mehr als achthundert Geräte vor dem Wertstoffhof "
            "bewahrt. Die Gemeinde denkt nun darüber nach, der Gruppe einen eigenen Raum zur "
            "Verfügung zu stellen, damit die Werkstatt öfter öffnen kann.",
        ],
    ),
}

# A page whose main content is a navigation list: extraction keeps it, the quality rules drop it.
LINK_FARM_TITLE = "Best deals best prices click here"
LINK_FARM_LINES = [f"Best cheap deal number {i} click here now" for i in range(1, 41)]
