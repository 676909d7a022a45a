from limelight.check.wer import match_ratio, wer, words


def test_words_fold_case_punctuation_and_numbers():
    assert words("It costs $12.50!") == ["it", "costs", "twelve", "dollars", "and", "fifty", "cents"]
    assert words("Twenty-one, O'Brien.") == ["twenty", "one", "o'brien"]


def test_wer_counts_substitutions_insertions_deletions():
    ref = "the cat sat down"
    assert wer(ref, "the cat sat down") == 0
    assert wer(ref, "the dog sat down") == 0.25
    assert wer(ref, "the cat sat") == 0.25
    assert wer(ref, "the cat sat down today") == 0.25
    assert match_ratio("big house", "four other words here") == 0.0


def test_spelled_letters_match_acronyms():
    assert words("at 7 am in the U.S.") == ["at", "seven", "am", "in", "the", "us"]


def test_numbers_match_their_spoken_form():
    assert wer("I paid $5 at 3:30 pm.", "I paid five dollars at three thirty PM.") == 0


def test_british_spelling_in_the_script_matches_whisper_s_american_spelling():
    ref = "The harbour lights were grey, and she realised the theatre programme had been cancelled."
    hyp = "The harbor lights were gray and she realized the theater program had been canceled."
    assert wer(ref, hyp) == 0.0 and match_ratio(ref, hyp) == 1.0
    assert wer("The harbour was quiet.", "The harvest was quiet.") > 0  # other words still differ
