"""One Streamlit page per module; app.py lists them in st.navigation.

Not called `pages/`: Streamlit treats a `pages/` folder beside the entry script as the old
multipage mode (its script runner then runs page files directly, bypassing app.py's sign-in
gate on a fresh server and in AppTest), even when st.navigation is used."""
