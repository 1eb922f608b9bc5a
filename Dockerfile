FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY briefml ./briefml
COPY core ./core
COPY db ./db
COPY workspace ./workspace
COPY webapp ./webapp
COPY .streamlit ./.streamlit
RUN pip install --no-cache-dir .
RUN useradd --create-home briefml
USER briefml
ENV BRIEFML_HOME=/home/briefml/.briefml
EXPOSE 8501
CMD ["briefml", "up", "--workers", "0", "--host", "0.0.0.0"]
