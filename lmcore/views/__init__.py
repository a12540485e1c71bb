"""Pure plotly figure builders and the numbers behind them (export, colour scales); no Streamlit."""
