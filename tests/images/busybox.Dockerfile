# A 2 MB image with sh, sleep, echo, httpd, wget: no Docker Hub needed.
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["sh"]
