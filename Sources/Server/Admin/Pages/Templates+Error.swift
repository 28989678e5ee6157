extension AdminTemplates {
    static let error = """
        <section class="card narrow">
          <h1>{{status}} {{reason}}</h1>
          <p class="error" role="alert">{{message}}</p>
          <p><a href="/admin">Back to the panel</a></p>
        </section>
        """
}
