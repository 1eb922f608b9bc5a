"""Sign in, or create an account."""

from __future__ import annotations

import streamlit as st

from webapp import components, session

st.title("briefml")
st.caption(
    "Write a brief, pick a table, approve the plan, and get a trained, evaluated, "
    "explained model your team shares."
)


def _signed_in(token: str) -> None:
    session.remember(token)
    st.rerun()


left, _ = st.columns([2, 1])
with left:
    if session.single_sign_on_configured():
        st.button(
            "Sign in with single sign-on",
            type="primary",
            icon=":material/login:",
            on_click=st.login,
            key="single-sign-on",
        )
        st.caption("Or use a local account:")
    sign_in_tab, sign_up_tab = st.tabs(["Sign in", "Create an account"])

    with sign_in_tab, st.form("sign-in"):
        email = st.text_input("Email", key="sign-in-email")
        password = st.text_input("Password", type="password", key="sign-in-password")
        if st.form_submit_button("Sign in", type="primary"):
            if not email.strip() or not password:
                st.error("Enter your email and password.")
            else:
                from workspace import accounts

                with components.shown_errors():
                    _user, token = accounts.sign_in(email=email.strip(), password=password)
                    _signed_in(token)

    with sign_up_tab, st.form("sign-up"):
        name = st.text_input("Your name (optional)", key="sign-up-name")
        new_email = st.text_input("Email", key="sign-up-email")
        new_password = st.text_input(
            "Password",
            type="password",
            key="sign-up-password",
            help="At least 10 characters; a few words strung together is easy to remember.",
        )
        repeat = st.text_input("Repeat the password", type="password", key="sign-up-repeat")
        if st.form_submit_button("Create account", type="primary"):
            if not new_email.strip() or not new_password:
                st.error("Enter an email and a password.")
            elif new_password != repeat:
                st.error("The two passwords differ; type the same password twice.")
            else:
                from workspace import accounts

                with components.shown_errors():
                    accounts.sign_up(
                        email=new_email.strip(), password=new_password, display_name=name.strip()
                    )
                    _user, token = accounts.sign_in(email=new_email.strip(), password=new_password)
                    _signed_in(token)
